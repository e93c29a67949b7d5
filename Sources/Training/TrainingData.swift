import Foundation
import Torch

/// One batch in the original's contract: `image` in [−1, 1], optional unscaled `latent` and
/// `latent_lowres` (precomputed), and ours: `latent_small`, the low-resolution image's own latent
/// that the latent-space upsampling modes start from.
public struct Batch {
  public let image: Tensor
  public var latent: Tensor?
  public var latentLowRes: Tensor?
  public var latentSmall: Tensor?

  public init(image: Tensor, latent: Tensor? = nil, latentLowRes: Tensor? = nil, latentSmall: Tensor? = nil) {
    self.image = image
    self.latent = latent
    self.latentLowRes = latentLowRes
    self.latentSmall = latentSmall
  }

  /// The batch with every tensor on `device`.
  public func placed(on device: Device) throws -> Batch {
    Batch(image: try image.placed(on: device), latent: try latent?.placed(on: device),
          latentLowRes: try latentLowRes?.placed(on: device), latentSmall: try latentSmall?.placed(on: device))
  }
}

/// Images read directly, or precomputed shards (`fmboost precompute`).
enum TrainingData {
  case images(train: ImageFolderDataset, validation: ImageFolderDataset)
  case shards(train: ShardDataset, validation: ShardDataset)

  init(folder: String, config: TrainingConfig) throws {
    if LatentShards.present(in: folder) {
      let recipe = LatentShards.Recipe(config)
      self = .shards(train: try ShardDataset(folder: folder, split: "train", recipe: recipe, seed: config.seed, flip: config.randomFlip),
                     validation: try ShardDataset(folder: folder, split: "validation", recipe: recipe, seed: config.seed, flip: false))
    } else {
      self = .images(
        train: try ImageFolderDataset(folder: folder, split: .train, validationFraction: config.validationFraction,
                                      size: config.highResSize, flip: config.randomFlip, rot90: config.randomRot90, seed: config.seed, maxShortSide: config.maxShortSide,
                                      cropCandidates: config.cropCandidates),
        validation: try ImageFolderDataset(folder: folder, split: .validation, validationFraction: config.validationFraction,
                                           size: config.highResSize, flip: false, seed: config.seed, maxShortSide: config.maxShortSide))
    }
  }

  var trainingCount: Int {
    switch self {
    case .images(let t, _): return t.files.count
    case .shards(let t, _): return t.count
    }
  }

  /// What a run from these shards will do slower than it could: a latent-space upsampling mode
  /// with shards made before `latent_small` was stored encodes every low-resolution image.
  func warning(for config: TrainingConfig) -> String? {
    guard case .shards(let t, _) = self, config.upsamplingMode != .psu, !t.hasSmallLatents else { return nil }
    return "these shards hold no latent_small (an earlier fmboost precompute): upsampling_mode \(config.upsamplingMode.rawValue) encodes every low-resolution image as training goes (slower); run fmboost precompute again"
  }

  var description: String {
    switch self {
    case .images(let t, let v): return "\(t.files.count) training and \(v.files.count) validation images"
    case .shards(let t, let v): return "\(t.count) training and \(v.count) validation samples from precomputed shards"
    }
  }

  func batch(_ index: Int, batchSize: Int) throws -> Batch {
    switch self {
    case .images(let t, _): return Batch(image: try t.batch(index, batchSize: batchSize))
    case .shards(let t, _):
      let s = try t.batch(index, batchSize: batchSize)
      return Batch(image: s.image, latent: s.latent, latentLowRes: s.latentLowRes, latentSmall: s.latentSmall)
    }
  }

  func validationBatches(batchSize: Int, limit: Int) throws -> [Batch] {
    switch self {
    case .images(_, let v): return try v.validationBatches(batchSize: batchSize, limit: limit).map { Batch(image: $0) }
    case .shards(_, let v):
      return try v.validationBatches(batchSize: batchSize, limit: limit).map {
        Batch(image: $0.image, latent: $0.latent, latentLowRes: $0.latentLowRes, latentSmall: $0.latentSmall)
      }
    }
  }
}
