import ArgumentParser
import Pipelines

/// `fmboost encode IMAGE... -o DIR --vae FILE`: images to latents.
struct Encode: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Encode images (PNG, JPEG, WebP, TIFF; files or folders) to latents (safetensors, key `latent`).",
    discussion: paragraphs("""
      Latents are written unscaled — the autoencoder's own posterior mean (SD) or output (TAESD) — with metadata `image_height`, `image_width`,
      `autoencoder` and `scale_factor` = 1. Images are centre-cropped to a multiple of the autoencoder's factor (8).
      """))

  @Argument(help: "Images or folders of images.") var inputs: [String]
  @OptionGroup var outputFolder: OutputFolderOption
  @Option(help: "The autoencoder: SD's (sd_ae.ckpt or safetensors, LDM or diffusers layout) or a TAESD-family encoder[,decoder].") var vae: String
  @Option(help: "Encode in tiles of this many pixels (a multiple of the autoencoder's factor; blended overlaps of a quarter tile) when the image is larger.") var tile: Int?
  @OptionGroup var overwrite: ForceOption

  func run() throws {
    var files = try LatentFiles(autoencoder: vaePaths(vae))
    (files.tile, files.overwrite) = (try latentTile(pixels: tile, factor: files.autoencoder.downsamplingFactor), overwrite.force)
    try files.encode(inputs, to: outputFolder.output, report: ProgressLine(label: "image").reporting(verb: "encoded"))
  }
}

/// `fmboost decode LATENT... -o DIR --vae FILE`: latents to PNG images.
struct Decode: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Decode latents (safetensors with key `latent`, (C, h, w) or (1, C, h, w)) to PNG images.",
    discussion: paragraphs("""
      A latent file whose metadata has `scale_factor` (for example 0.18215 for a scaled SD latent) is divided by it first; --scale-factor overrides
      that.
      """))

  @Argument(help: "Latent files or folders of them.") var inputs: [String]
  @OptionGroup var outputFolder: OutputFolderOption
  @Option(help: "The autoencoder: SD's (sd_ae.ckpt or safetensors) or a TAESD-family [encoder,]decoder.") var vae: String
  @Option(help: "Divide latents by this before decoding (default: the file's scale_factor metadata, else 1).") var scaleFactor: Double?
  @Option(help: "Decode in tiles of this many pixels of the output (a multiple of the autoencoder's factor; blended overlaps) when the image is larger.") var tile: Int?

  func validate() throws {
    if let scaleFactor, !(scaleFactor.isFinite && scaleFactor > 0) { throw ValidationError("--scale-factor must be a positive number, got \(scaleFactor)") }
  }

  @OptionGroup var overwrite: ForceOption

  func run() throws {
    var files = try LatentFiles(autoencoder: vaePaths(vae))
    (files.tile, files.overwrite) = (try latentTile(pixels: tile, factor: files.autoencoder.downsamplingFactor), overwrite.force)
    try files.decode(inputs, to: outputFolder.output, scaleFactor: scaleFactor, report: ProgressLine(label: "latent").reporting(verb: "decoded"))
  }
}
