import ArgumentParser
import Pipelines
import StableDiffusion
import Torch

/// `fmboost generate PROMPT --model SD -o DIR`: text → 512 px with SD1.5/LCM → boosted ×2 (or ×4).
struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Text to image with Stable Diffusion 1.5 or an LCM model, boosted ×2 by a CFM model.",
    discussion: paragraphs("""
      --model takes an SD1.5 single file (.safetensors or .ckpt) or a diffusers folder, LCM-distilled ones included. Defaults by model kind: SD1.5 —
      dpmpp-2m, 25 steps, guidance 7.5 (with the negative prompt); an LCM-distilled UNet — lcm, 4 steps, guidance 8.5 given as its w-embedding (one
      pass a step); a folder whose scheduler is LCM's — lcm, 4 steps, guidance 1. For LCM-LoRA pass --lora FILE --scheduler lcm --steps 4 --cfg-scale
      1.

      The base latent (W×H) is decoded by the model's autoencoder (or --decoder, a TAESD-family decoder, for a fast preview) and boosted: --boost
      default upsamples the image with the shipped ×2 model (--cascade 2: ×4); --boost MODEL with an FMBoost CFM checkpoint (one trained on SD latents
      runs in latent space, as in the paper: PSU context, ODE, one decode at the high resolution); --boost none keeps the base image. The noise of
      --seed S is PyTorch's torch.manual_seed(S); torch.randn, so a seed gives diffusers' image; image k of -n uses seed S + k. PNGs carry the
      settings in a `parameters` text chunk.
      """))

  @Argument(help: "The prompt (or give --prompts).") var prompt: String?
  @Option(help: "A prompt file: one prompt per line, optionally a tab and its seed (else --seed plus the prompt's index); # comments.") var prompts: String?
  @OptionGroup var sharding: ShardOption
  @Option(help: "Stable Diffusion 1.x weights: a single file or a diffusers folder.") var model: String
  @Option(help: "What the image should not show (classifier-free guidance's unconditional prompt).") var negativePrompt = ""
  @Option(help: "ddim, euler, euler-a, dpmpp-2m or lcm (default: by model kind, see above).") var scheduler: SamplerKind?
  @Option(help: "Sampling steps (default: 25, LCM 4).") var steps: Int?
  @Option(help: "Guidance scale (default: 7.5; LCM-distilled 8.5; 1 turns classifier-free guidance off).") var cfgScale: Double?
  @Option(help: "Timestep spacing: leading (SD1.5's), linspace or trailing.") var spacing: NoiseSchedule.Spacing = .leading
  @Flag(help: "Karras σ spacing (euler, euler-a, dpmpp-2m).") var karras = false
  @Option(help: "Seed of the initial noise.") var seed: UInt64 = 0
  @Option(name: [.customShort("W"), .long], help: "Base width in pixels (a multiple of 8).") var width = 512
  @Option(name: [.customShort("H"), .long], help: "Base height in pixels (a multiple of 8).") var height = 512
  @Option(help: "Use the text encoder's n-th layer from the end (A1111's clip skip; 1: the last).") var clipSkip = 1
  @Option(help: "A LoRA, FILE or FILE:SCALE (kohya or diffusers/peft layout); repeatable.") var lora: [String] = []
  @Option(help: "default (the shipped ×2 model), none, or an FMBoost CFM model file.") var boost = "default"
  @Option(help: "Number of boost stages (the ×2 default model: 2 takes 512 → 2048 px).") var cascade = 1
  @Option(help: "Run the boost in tiles of this many output pixels (bounded memory for large images).") var tile: Int?
  @Option(help: "A TAESD-family decoder file for the base decode (fast preview quality).") var decoder: String?
  @Option(help: "openai/CLIP's bpe_simple_vocab_16e6.txt.gz for single files (default: the one `make clip-vocab` fetches).") var vocabulary: String?
  @Option(name: [.customShort("n"), .long], help: "Number of images (seeds S, S+1, ...).") var count = 1
  @OptionGroup var outputFolder: OutputFolderOption
  @OptionGroup var overwrite: ForceOption
  @OptionGroup var threading: ThreadsOption
  @OptionGroup var inference: PrecisionOption
  @OptionGroup var placement: DeviceOption

  func validate() throws {
    guard (prompt == nil) != (prompts == nil) else { throw ValidationError("give a prompt or --prompts FILE, not both") }
    if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
    if let cfgScale, !(cfgScale.isFinite && cfgScale >= 0) { throw ValidationError("--cfg-scale must be 0 or more") }
    guard width > 0, height > 0, width % 8 == 0, height % 8 == 0 else { throw ValidationError("-W and -H must be positive multiples of 8, got \(width)×\(height)") }
    guard (1...4).contains(cascade), count >= 1, clipSkip >= 1 else { throw ValidationError("--cascade must be 1 to 4, -n and --clip-skip at least 1") }
  }

  func run() throws {
    threading.apply()
    var configuration = TextToImagePipeline.Configuration(model: model)
    (configuration.loras, configuration.vocabulary, configuration.previewDecoder) = (lora, vocabulary, decoder)
    configuration.boost = boost == "none" ? .none : boost == "default" ? .defaultModel : .model(boost)
    (configuration.boostTilePixels, configuration.precision, configuration.device) = (tile, inference.precision.dtype, try placement.resolve())
    let file = try prompts.map { try PromptFile(path: $0, baseSeed: seed) }
    configuration.keepsModelsLoaded = (file?.prompts.count ?? 1) > 1
    let pipeline = try TextToImagePipeline(configuration)
    let defaults = pipeline.defaults
    var settings = TextToImageSettings(prompt: prompt ?? "", sampler: scheduler ?? defaults.sampler, steps: steps ?? defaults.steps,
                                       guidance: cfgScale ?? defaults.guidance, seed: seed)
    settings.negativePrompt = negativePrompt
    (settings.width, settings.height, settings.clipSkip, settings.spacing, settings.karras) = (width, height, clipSkip, spacing, karras)
    print("\(pipeline.isLCMDistilled ? "LCM-distilled SD" : "SD") UNet \(pipeline.unetParameters.grouped) parameters; \(settings.sampler.rawValue) \(settings.steps) steps, guidance \(settings.guidance), \(width)×\(height), "
          + (boost == "none" ? "no boost" : "boost \(boost), \(cascade) stage\(cascade == 1 ? "" : "s")") + ", \(inference.precision.rawValue) on \(configuration.device), \(Runtime.threads) threads")
    let progress = ProgressLine(label: "image")
    if let file {
      let shard = try sharding.resolve()
      defer { if shard != nil { ShardOption.printCompleteness(folder: outputFolder.output) } }
      print("\(file.prompts.count) prompts in \(file.path)" + (shard.map { ", shard \($0)" } ?? ""))
      return try pipeline.generateFiles(file, settings: settings, stages: cascade, folder: outputFolder.output, overwrite: overwrite.force, shard: shard,
                                        progress: progress.update, report: progress.reporting(verb: "generated"))
    }
    try pipeline.generateFiles(settings, seeds: (0..<count).map { seed &+ UInt64($0) }, stages: cascade, folder: outputFolder.output,
                               overwrite: overwrite.force, progress: progress.update) { path, made in
      progress.finishLine()
      print("wrote \(path) (\(made.image.size(3))×\(made.image.size(2))); " + pipeline.times.summary())
    }
  }
}

extension SamplerKind: ExpressibleByArgument {}
extension NoiseSchedule.Spacing: ExpressibleByArgument {}
