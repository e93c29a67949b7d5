import Imaging
import NN
import Torch

/// What the pipeline and the command line need of a first stage: image ↔ raw latent.
/// Latents are the autoencoder's own (unscaled); scale factors such as SD's 0.18215 belong to the
/// pipeline configuration.
public protocol LatentAutoencoder: AnyObject {
  /// A short name for metadata and messages ("sd-vae", "taef2", ...).
  var kind: String { get }
  var latentChannels: Int { get }
  /// Pixels per latent position along each axis (8 for SD and TAESD).
  var downsamplingFactor: Int { get }
  /// The value range of the images it takes and returns.
  var pixelRange: PixelRange { get }
  /// Image (B, 3, H, W) → latent; the posterior mean for the KL autoencoder.
  func encode(_ image: Tensor) throws -> Tensor
  /// Latent → image (B, 3, H·f, W·f), not clamped.
  func decode(_ latent: Tensor) throws -> Tensor
  /// Each latent position is a function of its own f × f pixels and back (pixel space,
  /// pixel-unshuffle): nothing beyond them, so tiles of an image code exactly as the whole.
  var codesPixelBlocks: Bool { get }
}

extension LatentAutoencoder {
  public var codesPixelBlocks: Bool { false }
}

extension AutoencoderKL: LatentAutoencoder {
  public var kind: String { "sd-vae" }
  public var latentChannels: Int { config.embedDim }
  public var downsamplingFactor: Int { config.downsamplingFactor }
  public var pixelRange: PixelRange { .symmetric }
  /// The posterior's mode (mean), as FMBoost uses it.
  public func encode(_ image: Tensor) throws -> Tensor { try posterior(image).mode }
}

/// A TAESD-family autoencoder: an encoder, a decoder, or both (they ship as two files).
public final class TinyAutoencoder: LatentAutoencoder {
  public let encoder: TAESDEncoder?
  public let decoder: TAESDDecoder?

  public init(encoder: TAESDEncoder?, decoder: TAESDDecoder?) throws {
    guard encoder != nil || decoder != nil else { throw TorchError.invalidArgument("a tiny autoencoder needs an encoder or a decoder") }
    if let e = encoder, let d = decoder, e.variant.latentChannels != d.variant.latentChannels {
      throw TorchError.invalidArgument(
        "TAESD encoder (\(e.variant.latentChannels) latent channels) and decoder (\(d.variant.latentChannels)) do not belong together")
    }
    self.encoder = encoder
    self.decoder = decoder
  }

  public var variant: TAESDVariant { encoder?.variant ?? decoder!.variant }
  public var kind: String {
    switch (variant.latentChannels, variant.midblockGN) {
    case (4, _): return "taesd"
    case (16, _): return "taef1"
    case (32, true): return "taef2"
    default: return "taesd-\(variant.latentChannels)ch"
    }
  }
  public var latentChannels: Int { variant.latentChannels }
  public var downsamplingFactor: Int { 8 }
  public var pixelRange: PixelRange { .unit }

  public func encode(_ image: Tensor) throws -> Tensor {
    guard let encoder else { throw TorchError.invalidArgument("this tiny autoencoder has no encoder: pass the encoder weights too") }
    return try encoder(image)
  }

  public func decode(_ latent: Tensor) throws -> Tensor {
    guard let decoder else { throw TorchError.invalidArgument("this tiny autoencoder has no decoder: pass the decoder weights too") }
    return try decoder(latent)
  }
}
