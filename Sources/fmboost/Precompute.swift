import ArgumentParser
import Foundation
import Training

/// `fmboost precompute`: encode a folder once into latent shards for training.
struct Precompute: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Encode a folder of images once into latent shards (train/ and validation/) that `fmboost train --data` reads.",
    discussion: paragraphs("""
      Each image is resized so its short side is the config's high_res_size; each training image gives --crops-per-image random crops drawn as
      training draws them, each validation image its centre crop. A shard holds `image` (uint8), `latent`, `latent_lowres` (the PSU latent of the
      low-resolution image made as training makes it) and `latent_small` (that image's own latent, for the latent-space modes) for up to --shard-size
      samples, and records the settings it was made with. Complete shards of the same settings are skipped, so an interrupted run resumes; shards made
      with other settings are rebuilt, and training refuses them.
      """))

  @Option(help: "The training config (its first stage, sizes and validation split are used).") var config: String
  @Option(help: "Folder of images.") var data: String
  @Option(name: .shortAndLong, help: "Output folder for the shards.") var output: String
  @Option(help: "Samples per shard.") var shardSize = 256
  @Option(help: "Random crops of each training image.") var cropsPerImage = 8
  @Argument(help: "Config overrides key.path=value.") var overrides: [String] = []

  func validate() throws {
    guard shardSize >= 1, cropsPerImage >= 1 else { throw ValidationError("--shard-size and --crops-per-image must be at least 1") }
  }

  func run() throws {
    let tree = try ConfigTree(path: config)
    try tree.apply(overrides: overrides)
    let c = try TrainingConfig(tree)
    try LatentShards.precompute(folder: data, output: URL(fileURLWithPath: output), config: c, shardSize: shardSize, cropsPerImage: cropsPerImage) { print($0) }
  }
}
