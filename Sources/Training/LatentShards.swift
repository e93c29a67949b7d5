import Checkpoint
import FMBoost
import Foundation
import Imaging
import Torch

/// Precomputed training data: safetensors shards of `image` (uint8), `latent` and `latent_lowres`
/// (the autoencoder's unscaled latents; `latent_lowres` is the PSU latent
/// E(bilinear_up(bilinear_down(image)))), as the original's batch contract expects them, and
/// `latent_small` = E(bilinear_down(image)) for the latent-space upsampling modes.
public enum LatentShards {
  public static let format = "fmboost-shard-2"

  /// What a shard was made with; stored in every shard's metadata, so shards made under another
  /// config are rebuilt by `precompute` and refused by training. (Not the latent scale: the
  /// latents are stored unscaled, and training scales them.)
  public struct Recipe: Equatable {
    public var firstStage: String
    public var imageSize: Int
    public var lowResSize: Int
    public var downsampling: String

    public init(_ config: TrainingConfig) {
      firstStage = config.firstStage.identifier
      imageSize = config.highResSize
      lowResSize = config.lowResSize
      downsampling = config.downsampling.rawValue
    }

    var metadata: [String: String] {
      ["first_stage": firstStage, "image_size": String(imageSize), "low_res_size": String(lowResSize), "low_res_downsampling": downsampling]
    }

    /// The first setting in which `metadata` differs from this recipe, as "key: shard vs config".
    func difference(from metadata: [String: String]) -> String? {
      for (key, value) in self.metadata.sorted(by: { $0.key < $1.key }) where metadata[key] != value {
        return "\(key) is \(metadata[key] ?? "missing") in the shard but \(value) in the config"
      }
      return nil
    }
  }

  /// Encodes the images of `folder` (short side resized to the config's `high_res_size`) into shards
  /// of `shardSize` samples under `output/train` and `output/validation` (the trainer's split):
  /// `cropsPerImage` random crops of each training image, drawn as training draws them (the
  /// config's flips, rotations and crop candidates, from `train.seed`), and the centre crop of each
  /// validation image; the low-resolution image made as training makes it (`low_res_downsampling`).
  /// Complete shards of the same recipe and crop count are kept, so an interrupted run resumes
  /// where it stopped; others are rebuilt.
  public static func precompute(
    folder: String, output: URL, config: TrainingConfig, shardSize: Int, cropsPerImage: Int = 8, progress: (String) -> Void
  ) throws {
    let autoencoder = try config.firstStage.load()
    let recipe = Recipe(config)
    let size = config.highResSize
    // The low-resolution image's own latent, which the latent-space upsampling modes start from,
    // where that image is a whole number of latent positions.
    let storesSmall = config.lowResSize % autoencoder.downsamplingFactor == 0
    for (split, name) in [(ImageFolderDataset.Split.train, "train"), (.validation, "validation")] {
      let train = split == .train
      let dataset = try ImageFolderDataset(
        folder: folder, split: split, validationFraction: config.validationFraction, size: size, flip: train && config.randomFlip,
        rot90: train && config.randomRot90, seed: config.seed, maxShortSide: config.maxShortSide, cropCandidates: train ? config.cropCandidates : 1)
      let directory = output.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let crops = train ? cropsPerImage : 1
      let count = dataset.files.count * crops
      for (shard, start) in stride(from: 0, to: count, by: shardSize).enumerated() {
        let url = directory.appendingPathComponent(String(format: "shard-%06d.safetensors", shard))
        let range = start..<min(count, start + shardSize)
        if let existing = try? SafeTensorsFile(path: url.path), existing.metadata["format"] == format,
          existing.metadata["count"] == String(range.count)
        {
          if let difference = recipe.difference(from: existing.metadata) {
            progress("\(name) shard \(shard): made with other settings (\(difference)), rebuilding")
          } else if existing.metadata["crops_per_image"] != String(crops) || (storesSmall && existing.entries["latent_small"] == nil) {
            progress("\(name) shard \(shard): made with \(existing.metadata["crops_per_image"] ?? "1") crops per image or without latent_small, rebuilding")
          } else {
            progress("\(name) shard \(shard): already written, skipped")
            continue
          }
        }
        let picked = try range.map { k in train ? try dataset.sampleWithSource(k) : (crop: try dataset.centreCrop(k), source: k) }
        let images = try Tensor.stack(picked.map(\.crop))
        let latents = try withNoGrad { () -> [(String, Tensor)] in
          let input = autoencoder.pixelRange == .unit ? try (images + 1) / 2 : images
          let lowImage = try config.lowResImage(input)
          let low = try lowImage.interpolate(size: (size, size), mode: .bilinear)
          return [("latent", try autoencoder.encode(input)), ("latent_lowres", try autoencoder.encode(low))]
            + (storesSmall ? [("latent_small", try autoencoder.encode(lowImage))] : [])
        }
        let bytes = try ((images + 1) * 127.5).round().clamp(min: 0, max: 255).to(.uint8)
        let sources = picked.map { (dataset.files[$0.source] as NSString).lastPathComponent }
        let metadata = recipe.metadata.merging(
          ["format": format, "autoencoder": autoencoder.kind, "count": String(range.count), "crops_per_image": String(crops),
           "sources": sources.joined(separator: "\n")]
        ) { a, _ in a }
        try SafeTensors.write([("image", bytes)] + (try latents.map { ($0.0, try $0.1.contiguous()) }), metadata: metadata, to: url)
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
    let latentSmall: Tensor?
  }

  let shards: [SafeTensorsFile]
  let offsets: [Int]
  let count: Int
  /// Whether every shard has `latent_small` (the latent-space upsampling modes' input).
  let hasSmallLatents: Bool
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
    hasSmallLatents = shards.allSatisfy { $0.entries["latent_small"] != nil }
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
    return Sample(image: image, latent: try take("latent"), latentLowRes: try take("latent_lowres"),
                  latentSmall: hasSmallLatents ? try take("latent_small") : nil)
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
    return try Self.stack(samples)
  }

  static func stack(_ samples: [Sample]) throws -> Sample {
    Sample(image: try Tensor.stack(samples.map(\.image)), latent: try Tensor.stack(samples.map(\.latent)),
           latentLowRes: try Tensor.stack(samples.map(\.latentLowRes)),
           latentSmall: samples.allSatisfy { $0.latentSmall != nil } ? try Tensor.stack(samples.map { $0.latentSmall! }) : nil)
  }

  func validationBatches(batchSize: Int, limit: Int) throws -> [Sample] {
    try stride(from: 0, to: count, by: batchSize).prefix(limit).map { start in
      try Self.stack(try (start..<min(count, start + batchSize)).map { try sample(at: $0, flipped: false) })
    }
  }
}
