import FMBoost
import Foundation
import StableDiffusion
import Torch

/// The paper's pipeline: a prompt → Stable Diffusion 1.5 or an LCM model → the base latent →
/// decoded (by the model's autoencoder, or a TAESD-family preview decoder) → boosted ×2 per
/// stage by a CFM model. It owns the stage order and the memory: every base latent is sampled
/// first, then the SD networks are released (4 GB in fp32) before the decoder and the boost model
/// run, so their memory is never needed at the same time; a later call loads them again.
public final class TextToImagePipeline {
  /// Which CFM model boosts the base image.
  public enum Boost: Sendable, Equatable {
    case none
    /// The shipped ×2 model (`DefaultModel`).
    case defaultModel
    /// An FMBoost CFM model file: one trained on SD latents runs in SD's latent space.
    case model(String)
  }

  public struct Configuration: Sendable {
    /// Stable Diffusion 1.x weights: a single file or a diffusers folder.
    public var model: String
    /// LoRAs as `FILE[:SCALE]`.
    public var loras: [String] = []
    /// openai/CLIP's vocabulary for single files (default: the one `make clip-vocab` fetches).
    public var vocabulary: String?
    /// A TAESD-family decoder file for the base decode (fast preview quality).
    public var previewDecoder: String?
    public var boost = Boost.defaultModel
    /// Boost in tiles of this many output pixels.
    public var boostTilePixels: Int?
    /// Run the networks under autocast in this type (nil: float32).
    public var precision: DType?
    /// Where the networks run; the images come back on the CPU.
    public var device: Device = .cpu
    /// Keep the SD networks and the boost model loaded between calls (many prompts, one call each:
    /// both are then in memory at once) instead of releasing SD before the boost and loading again.
    public var keepsModelsLoaded = false

    public init(model: String) { self.model = model }
  }

  /// One image made: (1, 3, H, W) in [−1, 1] on the CPU, the seed it came from, and A1111's `parameters` text.
  public struct GeneratedImage {
    public let image: Tensor
    public let seed: UInt64
    public let parameters: String
  }

  public let configuration: Configuration
  public let times = StageTimes()
  private var model: StableDiffusionModel?
  /// The boost model, kept between calls with `keepsModelsLoaded` (nil inside: no boost).
  private var keptBooster: UpsamplingPipeline??
  private let loras: [LoRA]
  private let previewDecoder: TinyAutoencoder?
  /// The model's kind and size, for a summary line.
  public let isLCMDistilled: Bool
  public let unetParameters: Int
  /// The sampler, steps and guidance this kind of model defaults to.
  public let defaults: (sampler: SamplerKind, steps: Int, guidance: Double)

  public init(_ configuration: Configuration) throws {
    self.configuration = configuration
    try Devices.check(configuration.device)
    try PipelineError.requireAutocast(configuration.precision, on: configuration.device)
    previewDecoder = try configuration.previewDecoder.map { try Self.previewDecoder($0, device: configuration.device) }
    let loras = try configuration.loras.map(LoRA.init(argument:))
    self.loras = loras
    let model = try Self.load(configuration, loras: loras, times: times)
    // A TAESD-family decoder works in the UNet's (scaled) latent space; the SD autoencoder in its own.
    if let previewDecoder, previewDecoder.latentChannels != model.vae.latentChannels || previewDecoder.downsamplingFactor != model.vae.downsamplingFactor {
      throw PipelineError.previewDecoderMismatch(
        file: configuration.previewDecoder!,
        reason: "a \(previewDecoder.kind) decoder (\(previewDecoder.latentChannels) latent channels, ×\(previewDecoder.downsamplingFactor)) does not fit this model's latents (\(model.vae.latentChannels) channels, ×\(model.vae.downsamplingFactor)); SD1.5's is taesd_decoder")
    }
    self.model = model
    isLCMDistilled = model.isLCMDistilled
    unetParameters = model.unet.parameterCount
    defaults = model.defaults
  }

  /// The SD model of `configuration` with its LoRAs merged, timed.
  static func load(_ configuration: Configuration, loras: [LoRA], times: StageTimes) throws -> StableDiffusionModel {
    try times.stage("load \(configuration.model)\(loras.isEmpty ? "" : " + \(loras.count) LoRA")") {
      try StableDiffusionLoader.load(configuration.model, vocabulary: CLIPVocabulary.path(configuration.vocabulary), loras: loras, device: configuration.device)
    }
  }

  /// The preview decoder file: a TAESD-family decoder, checked before the SD weights are read.
  static func previewDecoder(_ path: String, device: Device) throws -> TinyAutoencoder {
    guard let tiny = try AutoencoderLoader.load([path], device: device) as? TinyAutoencoder, tiny.decoder != nil else {
      throw PipelineError.previewDecoderMismatch(
        file: path, reason: "not a TAESD-family decoder (an SD autoencoder decodes by default; a TAESD encoder does not decode)")
    }
    return tiny
  }

  /// Makes one image per seed of `seeds` with `settings` (its seed is replaced by each), boosted by
  /// `stages` boost stages; `onImage` receives each as it is finished, so at most one high-resolution
  /// image is held. `progress` sees the sampling steps ("sample") and the boost's ("boost").
  public func generate(_ settings: TextToImageSettings, seeds: [UInt64], stages: Int = 1, progress: PipelineProgressHandler? = nil,
                       onImage: (GeneratedImage) throws -> Void) throws {
    let (latents, vae, latentScale) = try sampleLatents(settings, seeds: seeds, progress: progress)
    if !configuration.keepsModelsLoaded { Runtime.releaseFreedMemory() }  // the SD networks went with the call
    let booster = try keptBooster ?? times.stage("load boost model") { try makeBooster(sdVAE: vae) }
    if configuration.keepsModelsLoaded { keptBooster = booster }
    let baseDecoder: any LatentAutoencoder = previewDecoder ?? vae
    let decoderScale = previewDecoder == nil ? 1 : latentScale
    for (k, latent) in latents.enumerated() {
      var s = settings
      s.seed = seeds[k]
      let base = try times.stage("decode \(s.width)×\(s.height)") {
        try withNoGrad { try inPrecision { try baseDecoder.decode(latent * decoderScale) }.to(.float32) }
      }
      let symmetric = baseDecoder.pixelRange == .unit ? try base * 2 - 1 : base
      let image = try booster.map { booster in
        try times.stage("boost ×\(booster.scale(stages: stages))") {
          try booster.upsample(symmetric: symmetric, stages: stages, progress: progress, item: (k, seeds.count))
        }
      } ?? symmetric
      let boostName = booster.map { "\(($0.modelPath as NSString).lastPathComponent) ×\($0.scale(stages: stages))" }
      try onImage(GeneratedImage(image: image.toHost(), seed: seeds[k], parameters: parameters(s, boost: boostName)))
    }
  }

  /// Every base latent, then the SD networks released unless kept (the UNet and the text encoder
  /// are the only references to them, and they end with this call): the autoencoder and its scale
  /// are kept.
  func sampleLatents(_ settings: TextToImageSettings, seeds: [UInt64], progress: PipelineProgressHandler?)
    throws -> (latents: [Tensor], vae: any LatentAutoencoder, latentScale: Double)
  {
    let sd = try model ?? Self.load(configuration, loras: loras, times: times)
    model = configuration.keepsModelsLoaded ? sd : nil
    let latents = try seeds.enumerated().map { k, seed in
      var s = settings
      s.seed = seed
      var state = PipelineProgress(phase: "sample", item: k, items: seeds.count)
      return try times.stage("sample \(k + 1) (\(s.steps) steps)") {
        try inPrecision {
          try sd.sampleLatent(s, progress: { i, n in
            (state.step, state.steps) = (i, n)
            try state.report(to: progress)
          })
        }.to(.float32)
      }
    }
    return (latents, sd.vae, sd.latentScale)
  }

  /// The boost model: its own first stage (the shipped pixel-unshuffle model), else SD's autoencoder.
  func makeBooster(sdVAE: any LatentAutoencoder) throws -> UpsamplingPipeline? {
    let path: String
    switch configuration.boost {
    case .none: return nil
    case .defaultModel: path = try DefaultModel.path()
    case .model(let file): path = file
    }
    var boost = UpsamplingPipeline.Configuration(model: path)
    boost.overrides.tilePixels = configuration.boostTilePixels
    boost.precision = configuration.precision
    boost.device = configuration.device
    return try UpsamplingPipeline(boost, fallbackAutoencoder: sdVAE)
  }

  /// A1111's `parameters` text: the prompt, the negative prompt, then the settings on one line.
  func parameters(_ s: TextToImageSettings, boost: String?) -> String {
    var line = "Steps: \(s.steps), Sampler: \(s.sampler.rawValue)\(s.karras ? " Karras" : ""), CFG scale: \(s.guidance), Seed: \(s.seed), Size: \(s.width)x\(s.height), Model: \((configuration.model as NSString).lastPathComponent)"
    if s.clipSkip > 1 { line += ", Clip skip: \(s.clipSkip)" }
    if !configuration.loras.isEmpty { line += ", LoRA: \(configuration.loras.map { ($0 as NSString).lastPathComponent }.joined(separator: " "))" }
    line += ", Boost: \(boost ?? "none")"
    return s.prompt + (s.negativePrompt.isEmpty ? "" : "\nNegative prompt: \(s.negativePrompt)") + "\n" + line
  }

  func inPrecision<R>(_ body: () throws -> R) rethrows -> R {
    guard let precision = configuration.precision else { return try body() }
    return try withAutocast(precision, on: configuration.device, body)
  }
}
