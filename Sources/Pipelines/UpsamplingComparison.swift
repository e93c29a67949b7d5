import Evaluation
import FMBoost
import Foundation
import Torch

/// One image of `fmboost eval`: the original downsampled ×scale (bicubic, antialiased; then
/// `degradation`, where there is one), brought back by bilinear, bicubic and each model setting,
/// every result scored against the original and, with `patches`, added to the patch FID/KID sets.
public struct UpsamplingComparison {
  public struct Model {
    public let label: String
    public let upsampler: Upsampler
    public init(label: String, upsampler: Upsampler) {
      self.label = label
      self.upsampler = upsampler
    }
  }

  public let models: [Model]
  /// Stages of every model (of a ×2 model, 1: ×2, 2: ×4).
  public let stages: Int
  /// How many times larger the output's sides are: the models' scale to the power `stages`.
  public let scale: Int
  public let patches: PatchFID?
  /// Noise seed of the models (the same for every image, as `upsample --seed`).
  public let seed: UInt64
  public let degradation: LowResolutionDegradation?

  /// All `models` must have one scale.
  public init(models: [Model], stages: Int = 1, patches: PatchFID? = nil, seed: UInt64 = 2024, degradation: LowResolutionDegradation? = nil) throws {
    let scales = Set(models.map(\.upsampler.recipe.scale))
    guard scales.count <= 1 else { throw TorchError.invalidArgument("the models to compare have different scales: \(scales.sorted())") }
    scale = (models.first?.upsampler.recipe ?? UpsamplingRecipe()).scale(stages: stages)
    (self.models, self.stages, self.patches, self.seed, self.degradation) = (models, stages, patches, seed, degradation)
  }

  /// Scores `original` (1, 3, H, W in [-1, 1], sides multiples of `scale`: `UpsamplingEvaluation.prepare`)
  /// by every method. Returns the scores and the images a comparison panel shows: bicubic, then each model.
  public func evaluate(_ original: Tensor, name: String, anchorSeed: UInt64) throws -> (scores: [UpsamplingEvaluation.Score], shown: [Tensor]) {
    let clean = try UpsamplingEvaluation.downsample(original, scale: scale)
    let low = try degradation?.apply(clean) ?? clean
    let size = (original.size(2), original.size(3))
    let anchors = try patches?.anchors(height: size.0, width: size.1, generator: Generator(seed: anchorSeed))
    func record(_ result: Tensor, _ method: String, since start: Date) throws -> UpsamplingEvaluation.Score {
      let seconds = Date().timeIntervalSince(start)
      if let patches, let anchors { try patches.add(result, anchors: anchors, method: method) }
      return try UpsamplingEvaluation.score(result, original: original, scale: scale, image: name, method: method, seconds: seconds)
    }
    if let patches, let anchors { try patches.add(original, anchors: anchors, method: "original") }
    var scores: [UpsamplingEvaluation.Score] = []
    var shown: [Tensor] = []
    for mode in [InterpolationMode.bilinear, .bicubic] {
      let start = Date()
      let result = try low.interpolate(size: size, mode: mode)
      if mode == .bicubic { shown.append(result) }
      scores.append(try record(result, "\(mode)", since: start))
    }
    for model in models {
      let start = Date()
      let unit = model.upsampler.pixelSpace.autoencoder.pixelRange == .unit
      var result = try model.upsampler.cascade(image: unit ? (low + 1) / 2 : low, stages: stages, generator: Generator(seed: seed)).image.toHost()
      if unit { result = try result * 2 - 1 }
      shown.append(result)
      scores.append(try record(result, model.label, since: start))
    }
    return (scores, shown)
  }
}
