import ArgumentParser
import Checkpoint
import FMBoost
import Imaging
import Pipelines
import Torch

/// `fmboost upsample INPUT... -o OUT`: the product.
struct Upsample: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Upsample images by the model's scale (the default model: ×2; more with --scale) with a coupling flow matching model.",
    discussion: paragraphs("""
      Each image is brought to the output size in pixel space (bilinear), encoded (PSU), noise-augmented at the forward-diffusion step --noising-step,
      flowed with the CFM network from t = 0 to 1 and decoded. Any size works: the output is exactly sW × sH per stage for a model of scale s (the image is padded to the
      size multiple the model needs and the result cropped back). Inputs are PNG, JPEG, WebP or TIFF files; outputs are named after them, in --format
      (PNG by default), existing files kept unless --force. An input that cannot be read is reported and the others are still processed; the exit code
      is then 1.

      Each image is upsampled as a viewer shows it: a JPEG's EXIF orientation is applied (and the output's is 1). Alpha is kept, its plane upsampled
      bicubic; greyscale stays greyscale; 16-bit PNG and TIFF stay 16-bit (JPEG and WebP are 8-bit); the ICC profile and EXIF block are copied.
      """))

  @Argument(help: "Images (PNG, JPEG, WebP, TIFF) or folders of them.") var inputs: [String]
  @OptionGroup var outputFolder: OutputFolderOption
  @OptionGroup var modelFile: ModelOption
  @Option(help: "Weights to use from a Lightning checkpoint: ema or online.") var weights: StateDictSelection.Weights = .ema
  @Option(help: "A JSON file with the EfficientUNet constructor arguments, when the model file holds none.") var modelConfig: String?
  @Option(help: "The autoencoder: SD's (sd_ae.ckpt or safetensors) or a TAESD-family encoder,decoder pair. Not needed for models with a built-in first stage (pixel space, pixel-unshuffle).")
  var vae: String?
  @Option(help: "Latent scale of the first stage (default: the model's, else SD's 0.18215).") var scaleFactor: Double?
  @Option(help: "Upsampling mode before the flow: psu, bilinear, nearest, bicubic, noise_upsampling, identity (default: the model's, else psu).") var mode: UpsamplingMode?
  @Option(help: "ODE method: euler, midpoint, heun, rk4 (torchdiffeq's 3/8 rule), rk4-classic, dopri5 (default: the model's, else euler).") var method: ODEMethod?
  @Option(help: "Integration steps (grid points − 1; default: the model's, else 20); dopri5 uses --atol/--rtol instead.") var steps: Int?
  @Option(help: "Absolute tolerance of dopri5 (default: torchdiffeq's and the original's, 1e-6).") var atol: Double?
  @Option(help: "Relative tolerance of dopri5 (default: 1e-3).") var rtol: Double?
  @Option(help: "Noise-augmentation step of x0: 2…999, or 0 for none (default: the model's, else 400).") var noisingStep: Int?
  @OptionGroup var random: SeedOption
  @Option(help: "Run the encoder, the flow network and the decoder in tiles of this many pixels of the output (a multiple of the first stage's factor): for local models (the default model) the cores of halo tiles, the same pixels as whole; for others, tiles blended over overlaps.")
  var tile: Int?
  @Option(help: "Peak memory to stay within, in GB: local models (the default model) upsample larger images in halo tiles sized to fit, the same pixels as whole; 0 for whole images always.")
  var memoryBudget: Double = 2.5
  @Option(help: "Output format: png, jpeg, webp (lossy, --quality) or tiff (deflate).") var format: ImageFormat = .png
  @Option(help: "JPEG and WebP quality, 1-100.") var quality = 95
  @Flag(help: "Also write <name>_compare.png: bicubic upsampling (left) next to the CFM result (right).") var compare = false
  @OptionGroup var sharding: ShardOption
  @OptionGroup var overwrite: ForceOption
  @OptionGroup var threading: ThreadsOption
  @OptionGroup var inference: PrecisionOption
  @OptionGroup var placement: DeviceOption

  func validate() throws {
    guard (0...1_000_000).contains(memoryBudget) else { throw ValidationError("--memory-budget must be a number of GB, 0 to 1,000,000, got \(memoryBudget)") }
    guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1 to 100, got \(quality)") }
  }

  func run() throws {
    threading.apply()
    var configuration = modelFile.configuration(vae: vae)
    configuration.weights = weights
    configuration.networkConfig = try modelConfig.map { try WeightFile.config(EfficientUNetConfig.self, jsonFile: $0) }
    configuration.overrides = UpsamplingRecipe.Overrides(
      latentScale: scaleFactor, mode: mode, noisingStep: noisingStep, method: method, steps: steps, atol: atol, rtol: rtol,
      tilePixels: tile, memoryBudget: Int(memoryBudget * 1e9))
    (configuration.precision, configuration.device) = (inference.precision.dtype, try placement.resolve())
    let pipeline = try UpsamplingPipeline(configuration)
    let r = pipeline.recipe
    print("model \(pipeline.modelPath) (\(pipeline.weights) weights, \(pipeline.flow.net.parameterCount.grouped) parameters), first stage \(pipeline.autoencoder.kind), \(inference.precision.rawValue) on \(pipeline.device), \(r.method.rawValue) \(r.method.isAdaptive ? "atol \(r.atol) rtol \(r.rtol)" : "\(r.steps) steps"), \(Runtime.threads) threads")
    var output = UpsamplingPipeline.FileOutput(folder: outputFolder.output)
    (output.format, output.quality, output.compare, output.overwrite) = (format, quality, compare, overwrite.force)
    output.shard = try sharding.resolve()
    let progress = ProgressLine(label: "image")
    defer { if output.shard != nil { ShardOption.printCompleteness(folder: output.folder) } }
    try pipeline.upsampleFiles(inputs, stages: try modelFile.stages(of: pipeline), seed: random.seed, output: output, progress: progress.update, report: progress.reporting(verb: "upsampled"))
  }
}

extension UpsamplingMode: ExpressibleByArgument {}
extension ODEMethod: ExpressibleByArgument {}
extension ImageFormat: ExpressibleByArgument {}
