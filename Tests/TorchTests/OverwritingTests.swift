import Foundation
import Testing
import Torch

/// `siluOverwriting`, `reluOverwriting`, `geluOverwriting`, `addOverwriting`, `mulOverwriting`: in inference they give the out-of-place
/// values in the caller's buffer; with autograd on they leave it alone and differentiate.
@Suite struct OverwritingTests {
  static func sample() throws -> Tensor { try Tensor([-2.5, -0.5, 0, 0.75, 3] as [Float], shape: [1, 5]) }

  @Test func withoutGradientsTheResultIsWrittenOverSelf() throws {
    try withNoGrad {
      let expectedSiLU = try Self.sample().silu().floats(), expectedReLU = try Self.sample().relu().floats()
      let a = try Self.sample(), b = try Self.sample()
      let silu = try a.siluOverwriting(), relu = try b.reluOverwriting()
      #expect(try silu.floats() == expectedSiLU && a.floats() == expectedSiLU)
      #expect(try relu.floats() == expectedReLU && b.floats() == expectedReLU)
      let expectedGELU = try Self.sample().gelu().floats(), c = try Self.sample()
      let gelu = try c.geluOverwriting()
      #expect(try gelu.floats() == expectedGELU && c.floats() == expectedGELU)
      #expect(abs(expectedGELU[3] - 0.5800294) < 1e-6)  // 0.75 · Φ(0.75)

      // GEGLU's pattern: both halves of one buffer, the value half overwritten by value · gelu(gate).
      let projection = try Tensor.randn([2, 6]), halves = try projection.chunk(2, dim: -1)
      let expectedGated = try (halves[0] * halves[1].gelu()).floats()
      let gated = try halves[0].mulOverwriting(halves[1].geluOverwriting())
      #expect(try gated.floats() == expectedGated)
      #expect(try projection.narrow(dim: 1, start: 0, length: 3).floats() == expectedGated)

      let x = try Tensor.randn([2, 3, 4, 4]), bias = try Tensor.randn([1, 3, 1, 1])
      let expected = try (x + bias).floats()
      let sum = try x.addOverwriting(bias)
      #expect(try sum.floats() == expected && x.floats() == expected)
    }
  }

  /// A sum that broadcasts self, or promotes its dtype, is computed out of place.
  @Test func aSumOfAnotherShapeOrDtypeIsNotWrittenOverSelf() throws {
    try withNoGrad {
      let small = try Tensor.ones([1, 3]), big = try Tensor.ones([2, 3])
      let sum = try small.addOverwriting(big)
      #expect(sum.shape == [2, 3])
      #expect(try small.floats() == [1, 1, 1])
      let product = try small.mulOverwriting(big * 2)
      #expect(product.shape == [2, 3])
      #expect(try product.floats() == [2, 2, 2, 2, 2, 2])
      #expect(try small.floats() == [1, 1, 1])

      let half = try Tensor.ones([3]).to(.bfloat16), full = try Tensor.full([3], 0.5)
      let promoted = try half.addOverwriting(full)
      #expect(promoted.dtype == .float32)
      #expect(try half.to(.float32).floats() == [1, 1, 1])
    }
  }

  @Test func withGradientsSelfIsKeptAndTheGradientFlows() throws {
    let x = try Self.sample().requiresGrad(true)
    let h = try x * 1  // an intermediate, as a norm's output is
    let y = try h.siluOverwriting().addOverwriting(h)
    try y.sum().backward()
    #expect(try h.floats() == Self.sample().floats())
    // d/dx (silu(x) + x) = σ(x)(1 + x(1 − σ(x))) + 1
    let expected = try Self.sample().floats().map { v -> Float in
      let s = 1 / (1 + Foundation.exp(-v)); return s * (1 + v * (1 - s)) + 1
    }
    let grad = try #require(x.grad).floats()
    for (g, e) in zip(grad, expected) { #expect(abs(g - e) < 1e-6) }
  }
}
