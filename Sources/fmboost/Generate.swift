import ArgumentParser
import Checkpoint
import FMBoost
import Foundation
import Imaging
import Torch

/// `fmboost generate PROMPT --model SD -o DIR`: text → 512 px with SD1.5/LCM → boosted ×2 (or ×4).
struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Text to image with Stable Diffusion 1.5 or an LCM model, boosted ×2 by a CFM model.",
    discussion: paragraphs("""
      --model takes an SD1.5 single file (.safetensors or .ckpt) or a diffusers folder, LCM-distilled ones \
      included. Defaults by model kind: SD1.5 — dpmpp-2m, 25 steps, guidance 7.5 (with the negative prompt); \
      an LCM-distilled UNet — lcm, 4 steps, guidance 8.5 given as its w-embedding (one pass a step); a \
      folder whose scheduler is LCM's — lcm, 4 steps, guidance 1. For LCM-LoRA pass --lora FILE \
      --scheduler lcm --steps 4 --cfg-scale 1.

      The base latent (W×H) is decoded by the model's autoencoder (or --decoder, a TAESD-family decoder, \
      for a fast preview) and boosted: --boost default upsamples the image with the shipped ×2 model \
      (--cascade 2: ×4); --boost MODEL with an FMBoost CFM checkpoint (one trained on SD latents runs in \
      latent space, as in the paper: PSU context, ODE, one decode at the high resolution); --boost none \
      keeps the base image. The noise of --seed S is PyTorch's torch.manual_seed(S); torch.randn, so a \
      seed gives diffusers' image; image k of -n uses seed S + k. PNGs carry the settings in a \
      `parameters` text chunk.
      """))

  @Argument(help: "The prompt.")
  var prompt: String

  @Option(help: "Stable Diffusion 1.x weights: a single file or a diffusers folder.")
  var model: String

  @Option(help: "What the image should not show (classifier-free guidance's unconditional prompt).")
  var negativePrompt = ""

  @Option(help: "ddim, euler, euler-a, dpmpp-2m or lcm (default: by model kind, see above).")
  var scheduler: SamplerKind?

  @Option(help: "Sampling steps (default: 25, LCM 4).")
  var steps: Int?

  @Option(help: "Guidance scale (default: 7.5; LCM-distilled 8.5; 1 turns classifier-free guidance off).")
  var cfgScale: Double?

  @Option(help: "Timestep spacing: leading (SD1.5's), linspace or trailing.")
  var spacing: NoiseSchedule.Spacing = .leading

  @Flag(help: "Karras σ spacing (euler, euler-a, dpmpp-2m).")
  var karras = false

  @Option(help: "Seed of the initial noise.")
  var seed: UInt64 = 0

  @Option(name: [.customShort("W"), .long], help: "Base width in pixels (a multiple of 8).")
  var width = 512

  @Option(name: [.customShort("H"), .long], help: "Base height in pixels (a multiple of 8).")
  var height = 512

  @Option(help: "Use the text encoder's n-th layer from the end (A1111's clip skip; 1: the last).")
  var clipSkip = 1

  @Option(help: "A LoRA, FILE or FILE:SCALE (kohya or diffusers/peft layout); repeatable.")
  var lora: [String] = []

  @Option(help: "default (the shipped ×2 model), none, or an FMBoost CFM model file.")
  var boost = "default"

  @Option(help: "Number of ×2 boost stages (2: 512 → 2048 px).")
  var cascade = 1

  @Option(help: "Run the boost in tiles of this many output pixels (bounded memory for large images).")
  var tile: Int?

  @Option(help: "A TAESD-family decoder file for the base decode (fast preview quality).")
  var decoder: String?

  @Option(help: "openai/CLIP's bpe_simple_vocab_16e6.txt.gz for single files (default: the one `make clip-vocab` fetches).")
  var vocabulary: String?

  @Option(name: [.customShort("n"), .long], help: "Number of images (seeds S, S+1, ...).")
  var count = 1

  @OptionGroup var outputFolder: OutputFolderOption
  @OptionGroup var overwrite: ForceOption
  @OptionGroup var threading: ThreadsOption
  @OptionGroup var inference: PrecisionOption

  func validate() throws {
    if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
    if let cfgScale, !(cfgScale.isFinite && cfgScale >= 0) { throw ValidationError("--cfg-scale must be 0 or more") }
    guard width > 0, height > 0, width % 8 == 0, height % 8 == 0 else { throw ValidationError("-W and -H must be positive multiples of 8, got \(width)×\(height)") }
    guard (1...4).contains(cascade) else { throw ValidationError("--cascade must be 1 to 4") }
    guard count >= 1 else { throw ValidationError("-n must be at least 1") }
    if let tile, tile < 1 { throw ValidationError("--tile must be a positive number of pixels") }
    guard clipSkip >= 1 else { throw ValidationError("--clip-skip must be at least 1") }
  }

  func run() throws {
    threading.apply()
    let clock = StageClock()
    let loras = try lora.map(LoRA.init(argument:))
    let previewDecoder = try decoder.map(Self.previewDecoder)
    var sd: StableDiffusionModel? = try clock.stage("load \(model)\(loras.isEmpty ? "" : " + \(loras.count) LoRA")") {
      try StableDiffusionLoader.load(model, vocabulary: CLIPVocabulary.path(vocabulary), loras: loras)
    }
    let defaults = sd!.defaults
    var settings = TextToImageSettings(prompt: prompt, sampler: scheduler ?? defaults.sampler, steps: steps ?? defaults.steps,
                                       guidance: cfgScale ?? defaults.guidance, seed: seed)
    settings.negativePrompt = negativePrompt
    (settings.width, settings.height, settings.clipSkip, settings.spacing, settings.karras) = (width, height, clipSkip, spacing, karras)
    let sdVAE = sd!.vae
    // A TAESD-family decoder works in the UNet's (scaled) latent space; the SD autoencoder in its own.
    if let previewDecoder, previewDecoder.latentChannels != sdVAE.latentChannels || previewDecoder.downsamplingFactor != sdVAE.downsamplingFactor {
      throw CommandError("--decoder \(decoder!): a \(previewDecoder.kind) decoder (\(previewDecoder.latentChannels) latent channels, ×\(previewDecoder.downsamplingFactor)) does not fit this model's latents (\(sdVAE.latentChannels) channels, ×\(sdVAE.downsamplingFactor)); SD1.5's is taesd_decoder")
    }
    let baseDecoder: any LatentAutoencoder = previewDecoder ?? sdVAE
    let decoderScale = previewDecoder == nil ? 1 : sd!.latentScale
    print("\(sd!.isLCMDistilled ? "LCM-distilled SD" : "SD") UNet \(sd!.unet.parameterCount.grouped) parameters; \(settings.sampler.rawValue) \(settings.steps) steps, guidance \(settings.guidance), \(width)×\(height), "
          + (boost == "none" ? "no boost" : "boost \(boost) ×\(1 << cascade)") + ", \(inference.precision.rawValue), \(Runtime.threads) threads")
    let output = outputFolder.output
    try CommandSupport.prepareDirectory(output)
    let seeds = (0..<count).map { seed &+ UInt64($0) }
    let destinations = seeds.map { (output as NSString).appendingPathComponent("\($0)-\(Self.slug(prompt)).png") }
    if !overwrite.force, let existing = destinations.first(where: FileManager.default.fileExists(atPath:)) {
      throw CommandError("\(existing) exists (use --force to overwrite)")
    }
    // Every base latent first: the UNet and the text encoder (4 GB in fp32) are released before
    // the decoder and the boost model run, so their memory is never needed at the same time.
    let latents = try seeds.enumerated().map { k, s in
      settings.seed = s
      let progress = ProgressLine(total: count, label: "sampling image")
      progress.item = k
      defer { progress.finishLine() }
      return try clock.stage("sample \(k + 1) (\(settings.steps) steps)") {
        try inference.run { try sd!.sampleLatent(settings, progress: { i, n in progress.update(step: i, of: n) }) }.to(.float32)
      }
    }
    sd = nil
    Runtime.releaseFreedMemory()
    print(clock.summary())
    let booster = try boost == "none" ? nil : clock.stage("load boost model") {
      try GenerateBoost(modelPath: boost == "default" ? DefaultModel.path() : boost, sdVAE: sdVAE, tile: tile)
    }
    for (k, latent) in latents.enumerated() {
      settings.seed = seeds[k]
      let base = try clock.stage("decode \(width)×\(height)") {
        try withNoGrad { try inference.run { try baseDecoder.decode(latent * decoderScale) }.to(.float32) }
      }
      let symmetric = baseDecoder.pixelRange == .unit ? try base * 2 - 1 : base
      let image = try booster.map { b in
        try clock.stage("boost ×\(1 << cascade)") { try inference.run { try b.upsample(symmetric, stages: cascade) }.to(.float32) }
      } ?? symmetric
      let text = Self.parameters(settings, model: model, loras: lora, boost: booster.map { "\($0.name) ×\(1 << cascade)" })
      try ImageFile.write(image, to: destinations[k], range: .symmetric, text: [("parameters", text)])
      print("wrote \(destinations[k]) (\(image.size(3))×\(image.size(2))); " + clock.summary())
    }
  }

  /// The `--decoder` file: a TAESD-family decoder, checked before the SD weights are read.
  static func previewDecoder(_ path: String) throws -> TinyAutoencoder {
    guard let tiny = try AutoencoderLoader.load([path]) as? TinyAutoencoder, tiny.decoder != nil else {
      throw CommandError("--decoder \(path): not a TAESD-family decoder (an SD autoencoder decodes by default; a TAESD encoder does not decode)")
    }
    return tiny
  }

  /// A1111's `parameters` text: the prompt, the negative prompt, then the settings on one line.
  static func parameters(_ s: TextToImageSettings, model: String, loras: [String], boost: String?) -> String {
    var line = "Steps: \(s.steps), Sampler: \(s.sampler.rawValue)\(s.karras ? " Karras" : ""), CFG scale: \(s.guidance), Seed: \(s.seed), Size: \(s.width)x\(s.height), Model: \((model as NSString).lastPathComponent)"
    if s.clipSkip > 1 { line += ", Clip skip: \(s.clipSkip)" }
    if !loras.isEmpty { line += ", LoRA: \(loras.map { ($0 as NSString).lastPathComponent }.joined(separator: " "))" }
    line += ", Boost: \(boost ?? "none")"
    return s.prompt + (s.negativePrompt.isEmpty ? "" : "\nNegative prompt: \(s.negativePrompt)") + "\n" + line
  }

  /// The prompt's first words, for the file name.
  static func slug(_ prompt: String) -> String {
    let words = prompt.lowercased().split { !$0.isLetter && !$0.isNumber }.prefix(6).joined(separator: "-")
    return words.isEmpty ? "image" : String(words.prefix(60))
  }
}

extension SamplerKind: ExpressibleByArgument {}
extension NoiseSchedule.Spacing: ExpressibleByArgument {}

/// The boost stage: a CFM model with its own first stage (the shipped pixel-unshuffle model) or
/// the SD autoencoder (a model trained on SD latents), run on the decoded base image.
struct GenerateBoost {
  let name: String
  let upsampler: Upsampler
  let unitRange: Bool

  init(modelPath: String, sdVAE: any LatentAutoencoder, tile: Int?) throws {
    let loaded = try FlowModelLoader.load(modelPath)
    let autoencoder = try loaded.pipeline?.builtInFirstStage() ?? sdVAE
    var settings = UpsamplerSettings(pipeline: loaded.pipeline)
    settings.tile = try CommandSupport.latentTile(pixels: tile, factor: autoencoder.downsamplingFactor)
    upsampler = try Upsampler(flow: loaded.flow, autoencoder: autoencoder, settings: settings)
    unitRange = autoencoder.pixelRange == .unit
    name = (modelPath as NSString).lastPathComponent
  }

  /// (1, 3, H, W) in [−1, 1] → (1, 3, 2^stages·H, 2^stages·W) in [−1, 1].
  func upsample(_ image: Tensor, stages: Int) throws -> Tensor {
    let input = unitRange ? try (image.clamp(min: -1, max: 1) + 1) / 2 : try image.clamp(min: -1, max: 1)
    let result = try withNoGrad { try upsampler.cascade(image: input, stages: stages, generator: Generator(seed: 2024)).image }
    return unitRange ? try result * 2 - 1 : result
  }
}

/// The seconds each stage of a command took, for its summary line.
final class StageClock {
  private var stages: [(String, Double)] = []

  func stage<T>(_ name: String, _ work: () throws -> T) rethrows -> T {
    let start = Date()
    defer { stages.append((name, Date().timeIntervalSince(start))) }
    return try work()
  }

  /// "load 3.1 s, sample (25 steps) 40.2 s, ..." of the stages since the last summary.
  func summary() -> String {
    defer { stages.removeAll() }
    return stages.map { String(format: "%@ %.1f s", $0.0, $0.1) }.joined(separator: ", ")
  }
}
