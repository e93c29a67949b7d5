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

  /// The table shows the time per image to three significant digits: milliseconds for bicubic,
  /// seconds for a model (it once printed 0.00 s for both interpolations).
  @Test func theTableShowsMillisecondsAndSeconds() throws {
    let original = try Tensor.rand([1, 3, 16, 16], generator: Generator(seed: 1)) * 2 - 1
    let result = try original.clamp(min: -0.9, max: 0.9)
    let fast = try UpsamplingEvaluation.score(result, original: original, image: "a", method: "bicubic", seconds: 0.0012345)
    let slow = try UpsamplingEvaluation.score(result, original: original, image: "a", method: "model", seconds: 12.345)
    let table = UpsamplingEvaluation.table(UpsamplingEvaluation.means([fast, slow]))
    #expect(table.contains("| 0.00123 |") && table.contains("| 12.3 |"), "\(table)")
  }
}
