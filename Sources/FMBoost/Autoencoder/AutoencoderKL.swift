import NN
import Torch

/// The posterior of the KL autoencoder: mean and log-variance (clamped to [−30, 20]).
public struct DiagonalGaussian {
  public let mean: Tensor
  public let logvar: Tensor

  /// mean + exp(½·logvar)·ε.
  public func sample(generator: Generator? = nil) throws -> Tensor {
    try mean + (logvar * 0.5).exp() * mean.randnLike(generator: generator)
  }

  /// The mode, which FMBoost uses for latents.
  public var mode: Tensor { mean }
}

/// Stable Diffusion's first stage (LDM's AutoencoderKL) with the LDM key names: `encoder.*`,
/// `decoder.*`, `quant_conv.*`, `post_quant_conv.*`. It knows nothing of the 0.18215 latent scale,
/// which belongs to the pipeline's configuration.
public final class AutoencoderKL: Module {
  public let config: AutoencoderKLConfig
  let encoder: VAEEncoder
  let decoder: VAEDecoder
  let quantConv: Conv2d
  let postQuantConv: Conv2d

  public init(_ config: AutoencoderKLConfig = .stableDiffusion, device: Device = .cpu, generator: Generator? = nil) throws {
    self.config = config
    encoder = try VAEEncoder(config, device: device, generator: generator)
    decoder = try VAEDecoder(config, device: device, generator: generator)
    let moments = config.doubleZ ? 2 * config.zChannels : config.zChannels
    quantConv = try Conv2d(moments, 2 * config.embedDim, kernelSize: 1, device: device, generator: generator)
    postQuantConv = try Conv2d(config.embedDim, config.zChannels, kernelSize: 1, device: device, generator: generator)
    super.init()
    register("encoder", encoder)
    register("decoder", decoder)
    register("quant_conv", quantConv)
    register("post_quant_conv", postQuantConv)
  }

  /// (B, 3, H, W) in [−1, 1] → the posterior over (B, embed_dim, H/8, W/8).
  public func posterior(_ image: Tensor) throws -> DiagonalGaussian {
    let moments = try quantConv(encoder(image))
    let parts = try moments.chunk(2, dim: 1)
    return DiagonalGaussian(mean: parts[0], logvar: try parts[1].clamp(min: -30, max: 20))
  }

  /// Latent (B, embed_dim, h, w) → image (B, 3, 8h, 8w), roughly in [−1, 1].
  public func decode(_ latent: Tensor) throws -> Tensor {
    try decoder(postQuantConv(latent))
  }
}
