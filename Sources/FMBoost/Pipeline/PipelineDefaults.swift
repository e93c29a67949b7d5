import Foundation

/// How a model was trained, so `fmboost upsample` can run it without flags: stored as JSON in a
/// model file's safetensors metadata (`pipeline`), written by `fmboost export`.
public struct PipelineDefaults: Codable, Equatable, Sendable {
  /// The first stage's kind ("identity", "pixel-unshuffle-4", "sd-vae", "taef2", ...).
  public var firstStage: String
  public var scaleFactor: Double
  public var upsamplingMode: UpsamplingMode
  public var noisingStep: Int
  public var startFromNoise: Bool
  /// How the training inputs were made from the high-resolution crops ("bilinear", "bicubic_antialias").
  public var lowResDownsampling: String
  public var method: ODEMethod
  public var steps: Int

  public init(
    firstStage: String, scaleFactor: Double, upsamplingMode: UpsamplingMode, noisingStep: Int, startFromNoise: Bool,
    lowResDownsampling: String, method: ODEMethod, steps: Int
  ) {
    self.firstStage = firstStage
    self.scaleFactor = scaleFactor
    self.upsamplingMode = upsamplingMode
    self.noisingStep = noisingStep
    self.startFromNoise = startFromNoise
    self.lowResDownsampling = lowResDownsampling
    self.method = method
    self.steps = steps
  }

  enum CodingKeys: String, CodingKey {
    case firstStage = "first_stage", scaleFactor = "scale_factor", upsamplingMode = "upsampling_mode", noisingStep = "noising_step"
    case startFromNoise = "start_from_noise", lowResDownsampling = "low_res_downsampling", method, steps
  }

  public static let metadataKey = "pipeline"

  public func json() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }

  /// The autoencoder this model needs when it needs no weights (identity, pixel-unshuffle); nil otherwise.
  public func builtInFirstStage() throws -> (any LatentAutoencoder)? {
    if firstStage == "identity" { return IdentityAutoencoder() }
    let prefix = "pixel-unshuffle-"
    if firstStage.hasPrefix(prefix), let f = Int(firstStage.dropFirst(prefix.count)) { return try PixelUnshuffleAutoencoder(factor: f) }
    return nil
  }
}
