import Testing
import Torch

@Suite struct AutogradTests {
  /// loss = Σ linear(silu(group_norm(conv2d(x, w)))).² in float64.
  static func loss(x: [Double], w: [Double], gnWeight: [Double], linearWeight: [Double]) throws -> Tensor {
    let xt = try Tensor(x, shape: [1, 2, 4, 4])
    let wt = try Tensor(w, shape: [4, 2, 3, 3])
    let gn = try Tensor(gnWeight, shape: [4])
    let lw = try Tensor(linearWeight, shape: [3, 64])
    return try lossTensors(xt, wt, gn, lw)
  }

  static func lossTensors(_ x: Tensor, _ w: Tensor, _ gn: Tensor, _ lw: Tensor) throws -> Tensor {
    let h = try x.conv2d(w, padding: (1, 1)).groupNorm(groups: 2, weight: gn, bias: nil, eps: 1e-5).silu()
    return try h.reshape([1, 64]).linear(lw).square().sum()
  }

  @Test func gradientsMatchFiniteDifferences() throws {
    let g = try Generator(seed: 11)
    func draw(_ n: Int) throws -> [Double] { try Tensor.randn([n], dtype: .float64, generator: g).toArray(Double.self) }
    let x = try draw(32), w = try draw(72), gnW = try draw(4).map { 1 + 0.1 * $0 }, lw = try draw(192).map { 0.2 * $0 }

    let xt = try Tensor(x, shape: [1, 2, 4, 4]).requiresGrad(true)
    let wt = try Tensor(w, shape: [4, 2, 3, 3]).requiresGrad(true)
    let gt = try Tensor(gnW, shape: [4]).requiresGrad(true)
    let lt = try Tensor(lw, shape: [3, 64]).requiresGrad(true)
    try Self.lossTensors(xt, wt, gt, lt).backward()
    let grads = try [xt, wt, gt, lt].map { try #require($0.grad).toArray(Double.self) }

    let h = 1e-6
    var worst = 0.0
    for (which, values) in [x, w, gnW, lw].enumerated() {
      for i in stride(from: 0, to: values.count, by: max(1, values.count / 12)) {
        func evaluate(_ delta: Double) throws -> Double {
          var args = [x, w, gnW, lw]
          args[which][i] += delta
          return try Self.loss(x: args[0], w: args[1], gnWeight: args[2], linearWeight: args[3]).item()
        }
        let numeric = (try evaluate(h) - evaluate(-h)) / (2 * h)
        let analytic = grads[which][i]
        worst = max(worst, abs(numeric - analytic) / max(1, abs(numeric)))
      }
    }
    #expect(worst < 1e-5, "worst relative gradient error \(worst)")
  }

  @Test func noGradRecordsNothingAndRestores() throws {
    let w = try Tensor.ones([3]).requiresGrad(true)
    let y = try withNoGrad { try w * 2 }
    #expect(!y.requiresGrad)
    #expect(isGradEnabled)
    #expect(try (w * 2).requiresGrad)
    struct Boom: Error {}
    #expect(throws: Boom.self) { try withNoGrad { throw Boom() } }
    #expect(isGradEnabled)
  }

  @Test func gradientsAccumulateAndClip() throws {
    let w = try Tensor([3, 4] as [Float]).requiresGrad(true)
    try (w * 1).sum().backward()
    try (w * 1).sum().backward()
    #expect(try w.grad?.toArray(Float.self) == [2, 2])
    try w.zeroGrad()
    #expect(w.grad == nil)
    try w.square().sum().backward()  // grad = 2w = [6, 8], norm 10
    let norm = try clipGradNorm([w], maxNorm: 5)
    #expect(abs(norm - 10) < 1e-5)
    let clipped = try #require(w.grad).toArray(Float.self)
    #expect(abs(clipped[0] - 3) < 1e-4 && abs(clipped[1] - 4) < 1e-4)
  }
}
