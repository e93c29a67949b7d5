import Foundation
import NN
import Testing
import Torch

/// Adam on f(x) = ½ Σ aᵢ xᵢ², gradient aᵢ xᵢ, against the update written out by hand in Double.
@Suite struct AdamTests {
  let a: [Double] = [1, 4, 0.25]
  let x0: [Double] = [1, -2, 3]

  func handAdam(steps: Int, lr: Double, wd: Double, decoupled: Bool) -> [Double] {
    let (b1, b2, eps) = (0.9, 0.999, 1e-8)
    var x = x0, m = [0.0, 0, 0], v = [0.0, 0, 0]
    for t in 1...steps {
      for i in 0..<3 {
        var g = a[i] * x[i]
        if decoupled { x[i] *= 1 - lr * wd } else { g += wd * x[i] }
        m[i] = b1 * m[i] + (1 - b1) * g
        v[i] = b2 * v[i] + (1 - b2) * g * g
        let mHat = m[i] / (1 - pow(b1, Double(t)))
        let vHat = v[i] / (1 - pow(b2, Double(t)))
        x[i] -= lr * mHat / (vHat.squareRoot() + eps)
      }
    }
    return x
  }

  func runAdam(steps: Int, _ h: Adam.Hyperparameters) throws -> (Parameter, Adam) {
    let p = try Parameter(Tensor(x0))
    let opt = Adam([("x", p)], h)
    let coefficients = try Tensor(a)
    for _ in 0..<steps {
      try opt.zeroGrad()
      try (coefficients * p.value.square() * 0.5).sum().backward()
      try opt.step()
    }
    return (p, opt)
  }

  @Test func firstStepMovesEachCoordinateByLr() throws {
    // m̂ = g and v̂ = g² after one step, so each coordinate moves by lr·sign(g).
    let (p, _) = try runAdam(steps: 1, .init(lr: 0.1))
    let got = try p.value.toArray(Double.self)
    for (g, e) in zip(got, [0.9, -1.9, 2.9]) { #expect(abs(g - e) < 1e-7) }
  }

  @Test func adamMatchesTheHandWrittenUpdate() throws {
    let (p, _) = try runAdam(steps: 5, .init(lr: 0.05, weightDecay: 0.1))
    let expected = handAdam(steps: 5, lr: 0.05, wd: 0.1, decoupled: false)
    for (g, e) in zip(try p.value.toArray(Double.self), expected) { #expect(abs(g - e) < 1e-12) }
  }

  @Test func adamWDecouplesWeightDecay() throws {
    let (p, _) = try runAdam(steps: 5, .adamW(lr: 0.05, weightDecay: 0.1))
    let expected = handAdam(steps: 5, lr: 0.05, wd: 0.1, decoupled: true)
    for (g, e) in zip(try p.value.toArray(Double.self), expected) { #expect(abs(g - e) < 1e-12) }
    let coupled = handAdam(steps: 5, lr: 0.05, wd: 0.1, decoupled: false)
    #expect(abs(expected[2] - coupled[2]) > 1e-4)  // the two variants really differ
  }

  @Test func stateRoundTripContinuesIdentically() throws {
    let (p, opt) = try runAdam(steps: 3, .init(lr: 0.05))
    let state = try opt.stateDict()
    #expect(try state["x.step"]?.itemInt() == 3)
    let copy = try Parameter(p.value.detach().clone())
    let resumed = Adam([("x", copy)], .init(lr: 0.05))
    try resumed.load(stateDict: state.mapValues { try $0.clone() })
    let coefficients = try Tensor(a)
    for (param, optimizer) in [(p, opt), (copy, resumed)] {
      try optimizer.zeroGrad()
      try (coefficients * param.value.square() * 0.5).sum().backward()
      try optimizer.step()
    }
    #expect(try p.value.equal(copy.value))
    #expect(throws: TorchError.self) { try resumed.load(stateDict: ["y.exp_avg": Tensor.zeros([3])]) }
  }

  @Test func warmupScheduleMatchesTheOriginal() {
    let s = LRSchedule.constantWithWarmup(warmupSteps: 1000)
    #expect(s.multiplier(at: 0) == 0 && s.multiplier(at: 500) == 0.5 && s.multiplier(at: 1000) == 1)
    let c = LRSchedule.cosineWithWarmup(warmupSteps: 10, totalSteps: 110)
    #expect(c.multiplier(at: 5) == 0.5 && abs(c.multiplier(at: 60) - 0.5) < 1e-12 && c.multiplier(at: 110) < 1e-12)
  }
}
