import Evaluation
import Testing
import Torch

/// `fmboost eval`'s preparation of the original: the SR literature's top-left crop to the scale.
@Suite struct EvaluationProtocolTests {
  @Test func originalsAreCroppedFromTheTopLeftToAMultipleOfTheScale() throws {
    let image = try Tensor.rand([3, 37, 50], generator: Generator(seed: 4))
    let whole = try UpsamplingEvaluation.prepare(image, scale: 4, maxSide: 0)
    #expect(whole.shape == [1, 3, 36, 48])
    #expect(try (whole.squeeze(dim: 0) - image.narrow(dim: 1, start: 0, length: 36).narrow(dim: 2, start: 0, length: 48)).abs().max().item() == 0)
    // --max-side first takes the centre (50 → 40 from column 5), then the top-left multiple.
    let limited = try UpsamplingEvaluation.prepare(image, scale: 2, maxSide: 40)
    #expect(limited.shape == [1, 3, 36, 40])
    #expect(try (limited.squeeze(dim: 0) - image.narrow(dim: 1, start: 0, length: 36).narrow(dim: 2, start: 5, length: 40)).abs().max().item() == 0)
    #expect(throws: (any Error).self) { try UpsamplingEvaluation.prepare(try Tensor.rand([3, 7, 50]), scale: 4, maxSide: 0) }
    #expect(try UpsamplingEvaluation.downsample(whole, scale: 4).shape == [1, 3, 9, 12])
  }
}
