import FMBoost
import Torch

/// What one text-to-image sample is made with (`fmboost generate`'s options).
public struct TextToImageSettings: Sendable {
  public var prompt: String
  public var negativePrompt = ""
  public var sampler: SamplerKind
  public var steps: Int
  public var guidance: Double
  public var seed: UInt64
  public var width = 512
  public var height = 512
  public var clipSkip = 1
  public var spacing: NoiseSchedule.Spacing = .leading
  public var karras = false

  public init(prompt: String, sampler: SamplerKind, steps: Int, guidance: Double, seed: UInt64) {
    self.prompt = prompt
    self.sampler = sampler
    self.steps = steps
    self.guidance = guidance
    self.seed = seed
  }
}

extension StableDiffusionModel {
  /// The text embeddings (1, 77, width) of a prompt.
  public func encode(prompt: String, clipSkip: Int = 1) throws -> Tensor {
    try textEncoder(Tensor(tokenizer.inputIDs(prompt).map(Int64.init)).reshape([1, -1]).placed(on: unet.device), clipSkip: clipSkip)
  }

  /// The autoencoder latent (unscaled) of one sample, as diffusers' pipelines make it: x_T =
  /// σ_init·randn(seed) (PyTorch's CPU generator, so a seed is diffusers' image), then the
  /// sampler's steps with ε from two passes combined by classifier-free guidance when guidance > 1
  /// (one pass otherwise, and always for an LCM-distilled UNet, which takes the guidance as its
  /// w-embedding). `noise(i)` overrides the stochastic samplers' draws (by default the seed's
  /// generator, continued); `progress(step, steps)` after each step.
  public func sampleLatent(_ s: TextToImageSettings, noise: ((Int) throws -> Tensor)? = nil,
                           progress: (Int, Int) throws -> Void = { _, _ in }) throws -> Tensor {
    let f = vae.downsamplingFactor
    guard s.width > 0, s.height > 0, s.width % f == 0, s.height % f == 0 else {
      throw TorchError.invalidArgument("width and height must be positive multiples of \(f) (the autoencoder's factor), got \(s.width)×\(s.height)")
    }
    return try withNoGrad {
      let cond = try encode(prompt: s.prompt, clipSkip: s.clipSkip)
      let uncond = !isLCMDistilled && s.guidance > 1 ? try encode(prompt: s.negativePrompt, clipSkip: s.clipSkip) : nil
      var sampler = try s.sampler.make(steps: s.steps, spacing: s.spacing, karras: s.karras)
      let generator = try Generator(seed: s.seed)
      let shape = [1, unet.config.inChannels, s.height / f, s.width / f]
      let device = unet.device
      let xT = try Tensor.randn(shape, generator: generator, device: device) * sampler.initNoiseSigma
      let x = try unet.sample(from: xT, sampler: &sampler, cond: cond, uncond: uncond, guidance: s.guidance,
                              noise: { try noise?($0).placed(on: device) ?? Tensor.randn(shape, generator: generator, device: device) }, progress: progress)
      return try x / latentScale
    }
  }
}

extension SDUNet {
  /// The sampling loop from x_T: ε from one pass with `cond`, or — with `uncond` and guidance > 1 —
  /// from a batch of two combined by classifier-free guidance; an LCM-distilled UNet takes the
  /// guidance as its w-embedding instead. `noise(i)` supplies step i's draw for stochastic samplers.
  public func sample(from xT: Tensor, sampler: inout any DiffusionSampler, cond: Tensor, uncond: Tensor?, guidance: Double,
                     noise: (Int) throws -> Tensor, progress: (Int, Int) throws -> Void = { _, _ in }) throws -> Tensor {
    let w = try config.timeCondProjDim.map { try guidanceEmbedding(guidance - 1, dim: $0).placed(on: xT.device) }
    let guided = w == nil && guidance > 1 ? uncond : nil
    var x = xT
    for (i, t) in sampler.timesteps.enumerated() {
      let input = try sampler.modelInput(x, step: i)
      let time = try Tensor([Float(t)]).placed(on: x.device)
      let eps: Tensor
      if let uncond = guided {
        let both = try self(Tensor.cat([input, input], dim: 0), t: time, context: Tensor.cat([uncond, cond], dim: 0)).split(size: 1, dim: 0)
        eps = try classifierFreeGuidance(uncond: both[0], cond: both[1], scale: guidance)
      } else {
        eps = try self(input, t: time, context: cond, timestepCond: w)
      }
      x = try sampler.step(x, eps: eps, step: i, noise: { try noise(i) }).prev
      try progress(i + 1, sampler.timesteps.count)
    }
    return x
  }
}
