import Torch

/// What a pipeline could not do, in the library's terms: the CLI and the server say which of
/// their options or fields it concerns.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
  /// Fails when autocast cannot compute in `precision` (nil: float32) on `device`.
  static func requireAutocast(_ precision: DType?, on device: Device) throws {
    if let precision, !autocastSupports(precision, on: device) { throw precisionUnsupported(precision, device: device) }
  }

  /// The model needs an autoencoder (its first stage has weights) and none was given.
  case needsAutoencoder(model: String, firstStage: String?)
  /// The default model file is not where it is looked for.
  case defaultModelMissing(fileName: String, searched: String)
  /// An image too small to upsample.
  case imageTooSmall(file: String, width: Int, height: Int)
  /// The preview decoder does not fit the text-to-image model's latents.
  case previewDecoderMismatch(file: String, reason: String)
  /// No input files were found.
  case noInputs
  /// Two inputs would be written to the same output.
  case sameOutput(String, String, output: String)
  /// A folder for outputs cannot be made.
  case cannotCreateFolder(String, reason: String)
  /// An output exists and overwriting was not asked for.
  case outputExists(String)
  /// Some inputs of a batch failed (each was reported as it failed).
  case inputsFailed(failed: Int, of: Int)
  /// One input could not be processed, for the reason given.
  case input(String, String)
  /// The caller cancelled the work.
  case cancelled
  /// Autocast cannot compute in this type on this device.
  case precisionUnsupported(DType, device: Device)
  /// No number of stages (1 to 4) of a model of this scale gives the scale asked for.
  case scaleUnreachable(Int, modelScale: Int)

  public var description: String {
    switch self {
    case .needsAutoencoder(let model, let firstStage):
      return "\(model) needs an autoencoder" + (firstStage.map { " (it was trained with the first stage \($0))" } ?? "")
    case .defaultModelMissing(let fileName, let searched):
      return "the default model (models/\(fileName)) was not found (looked in \(searched))"
    case .imageTooSmall(let file, let width, let height):
      return "\(file): \(width)×\(height) pixels is too small to upsample (at least 2×2)"
    case .previewDecoderMismatch(let file, let reason): return "\(file): \(reason)"
    case .noInputs: return "no input files"
    case .sameOutput(let a, let b, let output):
      return "\(a) and \(b) would both be written as \(output).*; pass their folder instead, or run them separately"
    case .cannotCreateFolder(let path, let reason): return "\(path): cannot create the output folder (\(reason))"
    case .outputExists(let path): return "\(path) exists"
    case .inputsFailed(let failed, let total): return "\(failed) of \(total) inputs failed"
    case .input(let path, let reason): return "\(path): \(reason)"
    case .cancelled: return "cancelled"
    case .precisionUnsupported(let dtype, let device):
      return "this libtorch's autocast on \(device) cannot compute in \(dtype)"
    case .scaleUnreachable(let scale, let modelScale):
      return "×\(scale) is not 1 to 4 stages of the ×\(modelScale) model"
    }
  }
}
