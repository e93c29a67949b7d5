import Checkpoint
import FMBoost
import Foundation
import Imaging
import Torch

/// Precomputed training data: safetensors shards of `image` (uint8), `latent` and `latent_lowres`
/// (the autoencoder's unscaled latents; `latent_lowres` is the PSU latent
/// E(bilinear_up(bilinear_down(image)))), as the original's batch contract expects them.
public enum LatentShards {
  public static let format = "fmboost-shard-2"

  /// What a shard was made with; stored in every shard's metadata, so shards made under another
  /// config are rebuilt by `precompute` and refused by training.
  public struct Recipe: Equatable {
    public var firstStage: String
    public var imageSize: Int
    public var lowResSize: Int
    public var downsampling: String
    public var scaleFactor: Double

    public init(_ config: TrainingConfig) {
      firstStage = config.firstStage.identifier
      imageSize = config.highResSize
      lowResSize = config.lowResSize
      downsampling = config.downsampling.rawValue
      scaleFactor = config.scaleFactor
    }

    var metadata: [String: String] {
      ["first_stage": firstStage, "image_size": String(imageSize), "low_res_size": String(lowResSize),
       "low_res_downsampling": downsampling, "scale_factor": String(scaleFactor)]
    }

    /// The first setting in which `metadata` differs from this recipe, as "key: shard vs config".
    func difference(from metadata: [String: String]) -> String? {
      for (key, value) in self.metadata.sorted(by: { $0.key < $1.key }) where metadata[key] != value {
        return "\(key) is \(metadata[key] ?? "missing") in the shard but \(value) in the config"
      }
      return nil
    }
  }

  /// Encodes every image of `folder` (short side resized to the config's `high_res_size`, centre
  /// crop) into shards of `shardSize` samples under `output/train` and `output/validation` (the
  /// trainer's split), with the low-resolution image made as training makes it
  /// (`low_res_downsampling`). Complete shards of the same recipe are kept, so an interrupted run
  /// resumes where it stopped; shards of another recipe are rebuilt.
  public static func precompute(
    folder: String, output: URL, config: TrainingConfig, shardSize: Int, progress: (String) -> Void
  ) throws {
    let autoencoder = try config.firstStage.load()
    let recipe = Recipe(config)
    let size = config.highResSize
    for (split, name) in [(ImageFolderDataset.Split.train, "train"), (.validation, "validation")] {
      let dataset = try ImageFolderDataset(
        folder: folder, split: split, validationFraction: config.validationFraction, size: size, flip: false, seed: 0,
        maxShortSide: config.maxShortSide)
      let directory = output.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let crops = try dataset.validationBatches(batchSize: 1, limit: Int.max)
      for (shard, start) in stride(from: 0, to: crops.count, by: shardSize).enumerated() {
        let url = directory.appendingPathComponent(String(format: "shard-%06d.safetensors", shard))
        let range = start..<min(crops.count, start + shardSize)
        if let existing = try? SafeTensorsFile(path: url.path), existing.metadata["format"] == format,
          existing.metadata["count"] == String(range.count)
        {
          if let difference = recipe.difference(from: existing.metadata) {
            progress("\(name) shard \(shard): made with other settings (\(difference)), rebuilding")
          } else {
            progress("\(name) shard \(shard): already written, skipped")
            continue
          }
        }
        let images = try Tensor.cat(Array(crops[range]), dim: 0)
        let (latent, lowLatent) = try withNoGrad { () -> (Tensor, Tensor) in
          let input = autoencoder.pixelRange == .unit ? try (images + 1) / 2 : images
          let low = try config.lowResImage(input).interpolate(size: (size, size), mode: .bilinear)
          return (try autoencoder.encode(input), try autoencoder.encode(low))
        }
        let bytes = try ((images + 1) * 127.5).round().clamp(min: 0, max: 255).to(.uint8)
        let sources = dataset.files[range].map { ($0 as NSString).lastPathComponent }
        let metadata = recipe.metadata.merging(
          ["format": format, "autoencoder": autoencoder.kind, "count": String(range.count), "sources": sources.joined(separator: "\n")]
        ) { a, _ in a }
        try SafeTensors.write(
          [("image", bytes), ("latent", try latent.contiguous()), ("latent_lowres", try lowLatent.contiguous())],
          metadata: metadata, to: url)
        progress("\(name) shard \(shard): \(range.count) samples → \(url.path)")
      }
    }
  }

  /// The shard files of one split, in order.
  static func files(in folder: String, split: String) -> [String] {
    let directory = (folder as NSString).appendingPathComponent(split)
    return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
      .filter { $0.hasPrefix("shard-") && $0.hasSuffix(".safetensors") }.sorted()
      .map { (directory as NSString).appendingPathComponent($0) }
  }

  /// Whether `folder` holds precomputed shards.
  public static func present(in folder: String) -> Bool { !files(in: folder, split: "train").isEmpty }
}

/// Samples from precomputed shards, memory-mapped; the same pure (seed, sample number) stream as
/// `ImageFolderDataset`, with a random horizontal flip.
final class ShardDataset {
  struct Sample {
    let image: Tensor
    let latent: Tensor
    let latentLowRes: Tensor
  }

  let shards: [SafeTensorsFile]
  let offsets: [Int]
  let count: Int
  let seed: UInt64
  let flip: Bool
  private var order = EpochOrder()
  private let lock = NSLock()

  init(folder: String, split: String, recipe: LatentShards.Recipe, seed: UInt64, flip: Bool) throws {
    let files = LatentShards.files(in: folder, split: split)
    guard !files.isEmpty else { throw ConfigError("\(folder)/\(split): no precomputed shards") }
    shards = try files.map { try SafeTensorsFile(path: $0) }
    for (file, shard) in zip(files, shards) {
      guard shard.metadata["format"] == LatentShards.format else {
        throw ConfigError("\(file): not a shard written by this version of fmboost precompute (format \(shard.metadata["format"] ?? "none")); run fmboost precompute again")
      }
      if let difference = recipe.difference(from: shard.metadata) {
        throw ConfigError("\(file): made with other settings than this config (\(difference)); run fmboost precompute with this config")
      }
      for key in ["image", "latent", "latent_lowres"] where shard.entries[key] == nil {
        throw ConfigError("\(file): no tensor '\(key)'")
      }
    }
    var offsets: [Int] = [], total = 0
    for shard in shards {
      offsets.append(total)
      total += shard.entries["latent"]?.shape.first ?? 0
    }
    self.offsets = offsets
    count = total
    self.seed = seed
    self.flip = flip
  }

  func sample(at index: Int, flipped: Bool) throws -> Sample {
    let shard = offsets.lastIndex { $0 <= index } ?? 0
    let file = shards[shard], row = index - offsets[shard]
    func take(_ key: String) throws -> Tensor {
      let t = try file.tensor(key).select(dim: 0, index: row)
      return flipped ? try t.flip([2]) : t
    }
    let image = try take("image").to(.float32) / 127.5 - 1
    return Sample(image: image, latent: try take("latent"), latentLowRes: try take("latent_lowres"))
  }

  /// Training batch `index` (samples index·B ..< (index+1)·B of the shuffled stream).
  func batch(_ index: Int, batchSize: Int) throws -> Sample {
    var samples: [Sample] = []
    for j in 0..<batchSize {
      let k = index * batchSize + j
      let g = try Generator(seed: seed ^ (UInt64(k) &* 0xBF58_476D_1CE4_E5B9) ^ 0x5555)
      let at = try lock.withLock { try order.index(ofSample: k, count: count, seed: seed) }
      samples.append(try sample(at: at, flipped: flip && (try Tensor.rand([1], generator: g).item()) < 0.5))
    }
    return Sample(image: try Tensor.stack(samples.map(\.image)), latent: try Tensor.stack(samples.map(\.latent)),
                  latentLowRes: try Tensor.stack(samples.map(\.latentLowRes)))
  }

  func validationBatches(batchSize: Int, limit: Int) throws -> [Sample] {
    try stride(from: 0, to: count, by: batchSize).prefix(limit).map { start in
      let samples = try (start..<min(count, start + batchSize)).map { try sample(at: $0, flipped: false) }
      return Sample(image: try Tensor.stack(samples.map(\.image)), latent: try Tensor.stack(samples.map(\.latent)),
                    latentLowRes: try Tensor.stack(samples.map(\.latentLowRes)))
    }
  }
}
