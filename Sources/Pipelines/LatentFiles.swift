import Checkpoint
import FMBoost
import Foundation
import Imaging
import Torch

/// Images to latent files and back with one autoencoder (`fmboost encode` / `decode`). Latents are
/// stored unscaled — the autoencoder's posterior mean (SD) or output (TAESD) — as safetensors key
/// `latent` with metadata `image_height`, `image_width`, `autoencoder` and `scale_factor` = 1.
public struct LatentFiles {
  public let autoencoder: any LatentAutoencoder
  /// Code in tiles of this many latent positions (blended overlaps) when the image is larger.
  public var tile: Int?
  public var overwrite = false

  /// SD's autoencoder file, or a TAESD-family encoder and/or decoder.
  public init(autoencoder files: [String]) throws {
    autoencoder = try AutoencoderLoader.load(files)
  }

  /// Encodes images (files or folders) into `folder`, one `.safetensors` per image.
  public func encode(_ inputs: [String], to folder: String, report: (FileBatch.Outcome) -> Void) throws {
    try FileBatch.prepareDirectory(folder)
    try FileBatch.run(FileBatch.expand(inputs, extensions: ImageFile.extensions), report: report) { _, input in
      let destination = try FileBatch.outputPath(for: input, in: folder, extension: "safetensors", overwrite: overwrite)
      let image = try ImageFile.read(input.path, range: autoencoder.pixelRange)
      let latent = try naming(input) { try autoencoder.encodeWhole(image, tile: tile) }
      let f = autoencoder.downsamplingFactor
      try SafeTensors.write(
        [("latent", latent)],
        metadata: ["image_height": String(latent.size(1) * f), "image_width": String(latent.size(2) * f), "autoencoder": autoencoder.kind,
                   "scale_factor": "1", "source": (input.path as NSString).lastPathComponent],
        to: URL(fileURLWithPath: destination))
      return FileBatch.Done(output: destination, summary: destination)
    }
  }

  /// Decodes latent files (or folders of them) into `folder` as PNGs; each latent is divided by
  /// `scaleFactor`, else by its file's `scale_factor` metadata, else 1.
  public func decode(_ inputs: [String], to folder: String, scaleFactor: Double? = nil, report: (FileBatch.Outcome) -> Void) throws {
    try FileBatch.prepareDirectory(folder)
    try FileBatch.run(FileBatch.expand(inputs, extensions: ["safetensors"]), report: report) { _, input in
      let destination = try FileBatch.outputPath(for: input, in: folder, extension: "png", overwrite: overwrite)
      let file = try SafeTensorsFile(path: input.path)
      let latent = try file.tensor("latent").to(.float32)
      let scale = scaleFactor ?? file.metadata["scale_factor"].flatMap(Double.init) ?? 1
      guard scale.isFinite, scale > 0 else {
        throw CheckpointError(file: input.path, "scale_factor \(scale) in the metadata is not a positive number; give the scale factor")
      }
      let image = try naming(input) { try autoencoder.decodeWhole(latent / scale, tile: tile) }
      try ImageFile.write(image, to: destination, range: autoencoder.pixelRange)
      return FileBatch.Done(output: destination, summary: destination)
    }
  }

  /// Runs `body` on one input, naming the input in the model layer's errors.
  func naming<T>(_ input: InputFile, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as TorchError {
      throw PipelineError.input(input.path, "\(error)")
    }
  }
}
