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

  public init(_ config: AutoencoderKLConfig, _ p: ModuleScope) throws {
    self.config = config
    encoder = try VAEEncoder(p["encoder"], config)
    decoder = try VAEDecoder(p["decoder"], config)
    let moments = config.doubleZ ? 2 * config.zChannels : config.zChannels
    quantConv = try Conv2d(p["quant_conv"], moments, 2 * config.embedDim, kernelSize: 1)
    postQuantConv = try Conv2d(p["post_quant_conv"], config.embedDim, config.zChannels, kernelSize: 1)
    super.init(p)
  }

  /// A freshly initialised autoencoder (`generator` draws the initial weights).
  public convenience init(_ config: AutoencoderKLConfig = .stableDiffusion, device: Device = .cpu, generator: Generator? = nil) throws {
    try self.init(config, ParameterSource.fresh(device: device, generator: generator).root)
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
