import FMBoost
import Torch

/// The parts of a Stable Diffusion 1.x model, loaded (see `StableDiffusionLoader`).
public struct StableDiffusionModel {
  public let tokenizer: CLIPTokenizer
  public let textEncoder: CLIPTextModel
  public let unet: SDUNet
  public let vae: any LatentAutoencoder
  /// Latents in the UNet's space are the autoencoder's × this (SD1.x: 0.18215).
  public let latentScale: Double
  /// The scheduler a diffusers folder names (`scheduler/scheduler_config.json`), when it is one we have.
  public let folderScheduler: SamplerKind?

  public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: SDUNet, vae: any LatentAutoencoder, latentScale: Double = 0.18215,
              folderScheduler: SamplerKind? = nil, source: String) throws {
    guard textEncoder.config.hiddenSize == unet.config.contextDim else {
      throw TorchError.invalidArgument("\(source): the text encoder's width \(textEncoder.config.hiddenSize) is not the UNet's context width \(unet.config.contextDim)")
    }
    guard vae.latentChannels == unet.config.inChannels else {
      throw TorchError.invalidArgument("\(source): the autoencoder's \(vae.latentChannels) latent channels are not the UNet's \(unet.config.inChannels)")
    }
    self.tokenizer = tokenizer
    self.textEncoder = textEncoder
    self.unet = unet
    self.vae = vae
    self.latentScale = latentScale
    self.folderScheduler = folderScheduler
  }

  /// An LCM-distilled UNet: guidance goes in as the w-embedding, one pass a step.
  public var isLCMDistilled: Bool { unet.config.timeCondProjDim != nil }

  /// The defaults for this kind of model: LCM-distilled — LCM, 4 steps, guidance 8.5 (as the
  /// w-embedding, diffusers' default); a folder whose scheduler is LCM's (LCM-LoRA fused) — LCM,
  /// 4 steps, guidance 1; SD1.5 — DPM-Solver++(2M), 25 steps, guidance 7.5.
  public var defaults: (sampler: SamplerKind, steps: Int, guidance: Double) {
    if isLCMDistilled { return (.lcm, 4, 8.5) }
    if folderScheduler == .lcm { return (.lcm, 4, 1) }
    return (folderScheduler ?? .dpmSolver, 25, 7.5)
  }
}
