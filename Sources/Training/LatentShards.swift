import Checkpoint
import FMBoost
import Foundation
import Imaging
import Torch

/// Precomputed training data: safetensors shards of `image` (uint8), `latent` and `latent_lowres`
/// (the autoencoder's unscaled latents; `latent_lowres` is the PSU latent
/// E(bilinear_up(bilinear_down(image)))), as the original's batch contract expects them.
public enum LatentShards {
  public static let format = "fmboost-shard-1"

  /// Encodes every image of `folder` (short side resized to `size`, centre crop) into shards of
  /// `shardSize` samples under `output/train` and `output/validation` (the trainer's split).
  /// Shards already written are kept, so an interrupted run resumes where it stopped.
  public static func precompute(
    folder: String, output: URL, autoencoder: any LatentAutoencoder, size: Int, lowResSize: Int, shardSize: Int,
    validationFraction: Double, progress: (String) -> Void
  ) throws {
    for (split, name) in [(ImageFolderDataset.Split.train, "train"), (.validation, "validation")] {
      let dataset = try ImageFolderDataset(folder: folder, split: split, validationFraction: validationFraction, size: size, flip: false, seed: 0)
      let directory = output.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let crops = try dataset.validationBatches(batchSize: 1, limit: Int.max)
      for (shard, start) in stride(from: 0, to: crops.count, by: shardSize).enumerated() {
        let url = directory.appendingPathComponent(String(format: "shard-%06d.safetensors", shard))
        let range = start..<min(crops.count, start + shardSize)
        if let existing = try? SafeTensorsFile(path: url.path), existing.metadata["count"] == String(range.count) {
          progress("\(name) shard \(shard): already written, skipped")
          continue
        }
        let images = try Tensor.cat(Array(crops[range]), dim: 0)
        let (latent, lowLatent) = try withNoGrad { () -> (Tensor, Tensor) in
          let input = autoencoder.pixelRange == .unit ? try (images + 1) / 2 : images
          let low = try input.interpolate(size: (lowResSize, lowResSize), mode: .bilinear).interpolate(size: (size, size), mode: .bilinear)
          return (try autoencoder.encode(input), try autoencoder.encode(low))
        }
        let bytes = try ((images + 1) * 127.5).round().clamp(min: 0, max: 255).to(.uint8)
        let sources = dataset.files[range].map { ($0 as NSString).lastPathComponent }
        try SafeTensors.write(
          [("image", bytes), ("latent", try latent.contiguous()), ("latent_lowres", try lowLatent.contiguous())],
          metadata: ["format": format, "autoencoder": autoencoder.kind, "image_size": String(size), "low_res_size": String(lowResSize),
                     "count": String(range.count), "sources": sources.joined(separator: "\n")],
          to: url)
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

  init(folder: String, split: String, seed: UInt64, flip: Bool) throws {
    let files = LatentShards.files(in: folder, split: split)
    guard !files.isEmpty else { throw ConfigError("\(folder)/\(split): no precomputed shards") }
    shards = try files.map { try SafeTensorsFile(path: $0) }
    for (file, shard) in zip(files, shards) where shard.metadata["format"] != LatentShards.format {
      throw ConfigError("\(file): not a shard written by fmboost precompute")
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
      let at = try order.index(ofSample: k, count: count, seed: seed)
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
