import FMBoost
import Foundation
import Imaging
import Torch

/// What is done to the low-resolution image before any method sees it, for evaluating on inputs
/// that are not clean downscales (`EvaluationPipeline.Configuration.degradation`): a JPEG round
/// trip, or the image decoded from a perturbed latent (as a generated low-resolution image is).
public struct LowResolutionDegradation {
  /// A short name for tables ("jpeg-40", "latent-noise-0.1").
  public let name: String
  /// (1, 3, h, w) in [-1, 1] → the same shape and range.
  public let apply: (Tensor) throws -> Tensor

  public init(name: String, apply: @escaping (Tensor) throws -> Tensor) {
    self.name = name
    self.apply = apply
  }

  /// Encoded as a JPEG of `quality` (libvips, 4:2:0 chroma) and decoded again.
  public static func jpeg(quality: Int) -> Self {
    LowResolutionDegradation(name: "jpeg-\(quality)") { image in
      let bytes = try ImageFile.encode(image.toHost().squeeze(dim: 0), name: "low-resolution input", range: .symmetric, jpeg: true, jpegQuality: quality)
      return try ImageFile.decode(Data(bytes), name: "low-resolution input", range: .symmetric).unsqueeze(dim: 0).to(image.device)
    }
  }

  /// Decoded from `autoencoder`'s latent of the image plus Gaussian noise of `sigma` times the
  /// latent's own standard deviation (a fixed draw from `seed` per image size).
  public static func latentNoise(_ autoencoder: any LatentAutoencoder, sigma: Double, seed: UInt64) -> Self {
    LowResolutionDegradation(name: "latent-noise-\(sigma)") { image in
      let unit = autoencoder.pixelRange == .unit
      let latent = try autoencoder.encode(unit ? (image + 1) / 2 : image)
      let noise = try Tensor.randn(latent.shape, generator: Generator(seed: seed)).to(latent.device)
      let decoded = try autoencoder.decode(latent + noise * (sigma * latent.std().item()))
      return try (unit ? decoded * 2 - 1 : decoded).clamp(min: -1, max: 1)
    }
  }
}
