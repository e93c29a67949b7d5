import ArgumentParser
import Checkpoint
import FMBoost
import Foundation
import Imaging
import Torch

/// `fmboost encode IMAGE... -o DIR --vae FILE`: images to latents.
struct Encode: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Encode images (PNG, JPEG, WebP, TIFF; files or folders) to latents (safetensors, key `latent`).",
    discussion: paragraphs("""
      Latents are written unscaled — the autoencoder's own posterior mean (SD) or output (TAESD) —
      with metadata `image_height`, `image_width`, `autoencoder` and `scale_factor` = 1. Images are
      centre-cropped to a multiple of the autoencoder's factor (8).
      """))

  @Argument(help: "Images or folders of images.")
  var inputs: [String]

  @OptionGroup var outputFolder: OutputFolderOption

  @Option(help: "The autoencoder: SD's (sd_ae.ckpt or safetensors, LDM or diffusers layout) or a TAESD-family encoder[,decoder].")
  var vae: String

  @Option(help: "Encode in tiles of this many pixels (a multiple of the autoencoder's factor; blended overlaps of a quarter tile) when the image is larger.")
  var tile: Int?

  @OptionGroup var overwrite: ForceOption
  var force: Bool { overwrite.force }

  func run() throws {
    let autoencoder = try AutoencoderLoader.load(CommandSupport.vaePaths(vae))
    let tile = try CommandSupport.latentTile(pixels: self.tile, factor: autoencoder.downsamplingFactor)
    let output = outputFolder.output
    try CommandSupport.prepareDirectory(output)
    let files = CommandSupport.expand(inputs, extensions: ImageFile.extensions)
    try CommandSupport.forEach(files, verb: "encoded") { input in
      let destination = try CommandSupport.outputPath(for: input, in: output, extension: "safetensors", force: force)
      let image = try ImageFile.read(input.path, range: autoencoder.pixelRange)
      let latent = try CommandError.naming(input) { try autoencoder.encodeWhole(image, tile: tile) }
      let f = autoencoder.downsamplingFactor
      let (h, w) = (latent.size(1) * f, latent.size(2) * f)
      try SafeTensors.write(
        [("latent", latent)],
        metadata: ["image_height": String(h), "image_width": String(w), "autoencoder": autoencoder.kind, "scale_factor": "1",
                   "source": (input.path as NSString).lastPathComponent],
        to: URL(fileURLWithPath: destination))
      return destination
    }
  }
}

/// `fmboost decode LATENT... -o DIR --vae FILE`: latents to PNG images.
struct Decode: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Decode latents (safetensors with key `latent`, (C, h, w) or (1, C, h, w)) to PNG images.",
    discussion: paragraphs("""
      A latent file whose metadata has `scale_factor` (for example 0.18215 for a scaled SD latent)
      is divided by it first; --scale-factor overrides that.
      """))

  @Argument(help: "Latent files or folders of them.")
  var inputs: [String]

  @OptionGroup var outputFolder: OutputFolderOption

  @Option(help: "The autoencoder: SD's (sd_ae.ckpt or safetensors) or a TAESD-family [encoder,]decoder.")
  var vae: String

  @Option(help: "Divide latents by this before decoding (default: the file's scale_factor metadata, else 1).")
  var scaleFactor: Double?

  @Option(help: "Decode in tiles of this many pixels of the output (a multiple of the autoencoder's factor; blended overlaps) when the image is larger.")
  var tile: Int?

  func validate() throws {
    try ScaleFactor.validate(scaleFactor)
    if let tile, tile < 1 { throw ValidationError("--tile must be a positive number of pixels") }
  }

  @OptionGroup var overwrite: ForceOption
  var force: Bool { overwrite.force }

  func run() throws {
    let autoencoder = try AutoencoderLoader.load(CommandSupport.vaePaths(vae))
    let tile = try CommandSupport.latentTile(pixels: self.tile, factor: autoencoder.downsamplingFactor)
    let output = outputFolder.output
    try CommandSupport.prepareDirectory(output)
    let files = CommandSupport.expand(inputs, extensions: ["safetensors"])
    try CommandSupport.forEach(files, verb: "decoded") { input in
      let destination = try CommandSupport.outputPath(for: input, in: output, extension: "png", force: force)
      let file = try SafeTensorsFile(path: input.path)
      let latent = try file.tensor("latent").to(.float32)
      let scale = scaleFactor ?? file.metadata["scale_factor"].flatMap(Double.init) ?? 1
      guard scale.isFinite, scale > 0 else { throw CommandError("\(input): scale_factor \(scale) in the metadata is not a positive number; pass --scale-factor") }
      let image = try CommandError.naming(input) { try autoencoder.decodeWhole(latent / scale, tile: tile) }
      try ImageFile.write(image, to: destination, range: autoencoder.pixelRange)
      return destination
    }
  }
}
