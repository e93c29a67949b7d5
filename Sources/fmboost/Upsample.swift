import ArgumentParser
import Checkpoint
import FMBoost
import Foundation
import Imaging
import Torch

/// `fmboost upsample INPUT... -o OUT`: the product.
struct Upsample: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Upsample images ×2 (or more with --cascade) with a coupling flow matching model.",
    discussion: paragraphs("""
      Each image is brought to the output size in pixel space (bilinear), encoded (PSU), noise-augmented
      at the forward-diffusion step --noising-step, flowed with the CFM network from t = 0 to 1 and
      decoded. Any size works: the output is exactly 2W × 2H per stage (the image is padded to the
      size multiple the model needs and the result cropped back). Inputs are PNG, JPEG, WebP or
      TIFF files; outputs are named after them, in --format (PNG by default), existing files kept
      unless --force. An input that cannot be read is reported and the others are still processed;
      the exit code is then 1.

      Each image is upsampled as a viewer shows it: a JPEG's EXIF orientation is applied (and the
      output's is 1). Alpha is kept, its plane upsampled bicubic; greyscale stays greyscale; 16-bit
      PNG and TIFF stay 16-bit (JPEG and WebP are 8-bit); the ICC profile and EXIF block are copied.
      """))

  @Argument(help: "Images (PNG, JPEG, WebP, TIFF) or folders of them.")
  var inputs: [String]

  @OptionGroup var outputFolder: OutputFolderOption
  @OptionGroup var modelFile: ModelOption

  @Option(help: "Weights to use from a Lightning checkpoint: ema or online.")
  var weights: StateDictSelection.Weights = .ema

  @Option(help: "A JSON file with the EfficientUNet constructor arguments, when the model file holds none.")
  var modelConfig: String?

  @Option(help: "The autoencoder: SD's (sd_ae.ckpt or safetensors) or a TAESD-family encoder,decoder pair. Not needed for models with a built-in first stage (pixel space, pixel-unshuffle).")
  var vae: String?

  @Option(help: "Latent scale of the first stage (default: the model's, else SD's 0.18215).")
  var scaleFactor: Double?

  @Option(help: "Upsampling mode before the flow: psu, bilinear, nearest, bicubic, noise_upsampling, identity (default: the model's, else psu).")
  var mode: UpsamplingMode?

  @Option(help: "ODE method: euler, midpoint, heun, rk4 (torchdiffeq's 3/8 rule), rk4-classic, dopri5 (default: the model's, else euler).")
  var method: ODEMethod?

  @Option(help: "Integration steps (grid points − 1; default: the model's, else 20); dopri5 uses --atol/--rtol instead.")
  var steps: Int?

  @Option(help: "Absolute tolerance of dopri5 (torchdiffeq's and the original's default).")
  var atol: Double = ODETolerance.defaultAtol

  @Option(help: "Relative tolerance of dopri5.")
  var rtol: Double = ODETolerance.defaultRtol

  @Option(help: "Noise-augmentation step of x0: 2…999, or 0 for none (default: the model's, else 400).")
  var noisingStep: Int?

  @OptionGroup var random: SeedOption

  @Option(help: "Number of ×2 stages (2: 512 → 2048 px).")
  var cascade: Int = 1

  @Option(help: "Run the encoder, the flow network and the decoder in tiles of this many pixels of the output (a multiple of the first stage's factor): for local models (the default model) the cores of halo tiles, the same pixels as whole; for others, tiles blended over overlaps.")
  var tile: Int?

  @Option(help: "Peak memory to stay within, in GB: local models (the default model) upsample larger images in halo tiles sized to fit, the same pixels as whole; 0 for whole images always.")
  var memoryBudget: Double = 2.5

  @Option(help: "Output format: png, jpeg, webp (lossy, --quality) or tiff (deflate).")
  var format: ImageFormat = .png

  @Option(help: "JPEG and WebP quality, 1-100.")
  var quality = 95

  @Flag(help: "Also write <name>_compare.png: bicubic upsampling (left) next to the CFM result (right).")
  var compare = false

  @OptionGroup var overwrite: ForceOption
  @OptionGroup var threading: ThreadsOption
  @OptionGroup var inference: PrecisionOption

  func validate() throws {
    guard (1...4).contains(cascade) else { throw ValidationError("--cascade must be 1 to 4 (×2 to ×16)") }
    if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
    if let tile, tile < 1 { throw ValidationError("--tile must be a positive number of pixels") }
    guard (0...1_000_000).contains(memoryBudget) else { throw ValidationError("--memory-budget must be a number of GB, 0 to 1,000,000, got \(memoryBudget)") }
    guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1 to 100, got \(quality)") }
    try ScaleFactor.validate(scaleFactor)
    if let noisingStep, noisingStep < 0 || !ForwardDiffusion.isValidNoisingStep(noisingStep) {
      throw ValidationError("--noising-step must be 0 (off) or 2…\(ForwardDiffusion.defaultSteps - 1), got \(noisingStep)")
    }
    do { try ODETolerance.validate(atol: atol, rtol: rtol) } catch { throw ValidationError("--\(error)") }
  }

  func run() throws {
    threading.apply()
    let force = overwrite.force
    let model = try modelFile.path()
    let config = try modelConfig.map { try WeightFile.config(EfficientUNetConfig.self, jsonFile: $0) }
    let loaded = try FlowModelLoader.load(model, weights: weights, config: config)
    let autoencoder = try CommandSupport.autoencoder(vae: vae, pipeline: loaded.pipeline, model: model)
    var settings = UpsamplerSettings(pipeline: loaded.pipeline)
    if let scaleFactor { settings.latentScale = scaleFactor }
    if let mode { settings.mode = mode }
    if let method { settings.method = method }
    if let steps { settings.steps = steps }
    if let noisingStep { settings.noisingStep = noisingStep }
    settings.atol = atol
    settings.rtol = rtol
    settings.tile = try CommandSupport.latentTile(pixels: tile, factor: autoencoder.downsamplingFactor)
    settings.memoryBudget = memoryBudget > 0 ? Int(memoryBudget * 1e9) : nil
    let upsampler = try Upsampler(flow: loaded.flow, autoencoder: autoencoder, settings: settings)
    let generator = try Generator(seed: random.seed)
    let method = settings.method
    print("model \(model) (\(loaded.weights) weights, \(loaded.flow.net.parameterCount.grouped) parameters), first stage \(autoencoder.kind), \(inference.precision.rawValue), \(method.rawValue) \(method.isAdaptive ? "atol \(atol) rtol \(rtol)" : "\(settings.steps) steps"), \(Runtime.threads) threads")
    let output = outputFolder.output
    try CommandSupport.prepareDirectory(output)
    let files = CommandSupport.expand(inputs, extensions: ImageFile.extensions)
    let progress = ProgressLine(total: files.count, label: "image")
    var stage = 0
    upsampler.onStep = { done, total in progress.update(step: stage * total + done, of: total * cascade) }
    try CommandSupport.forEach(files, verb: "upsampled") { input in
      defer { progress.item += 1; progress.finishLine() }
      let destination = try CommandSupport.outputPath(for: input, in: output, extension: format.fileExtension, force: force)
      if compare { _ = try CommandSupport.outputPath(for: input, in: output, suffix: "_compare", extension: "png", force: force) }
      let picture = try ImageFile.load(input.path)
      let (w, h) = (picture.width, picture.height)
      guard h >= 2, w >= 2 else { throw CommandError("\(input): \(w)×\(h) pixels is too small to upsample (at least 2×2)") }
      let result = try inference.run {
        try upsampler.upsample(picture: picture, stages: cascade, generator: generator) { stage = $0 }
      }
      try ImageFile.save(result.picture, to: destination, format: format, quality: quality)
      if compare {
        let comparePath = (destination as NSString).deletingPathExtension + "_compare.png"
        let sideBySide = try upsampler.sideBySide(input: picture.color.unsqueeze(dim: 0), result: result.picture.color.unsqueeze(dim: 0), range: .unit)
        try ImageFile.write(sideBySide, to: comparePath)
      }
      let tiles = upsampler.haloTileCount(height: h, width: w, stages: cascade)
      let tiled = tiles > 0 ? ", \(tiles) halo tiles" : ""
      return "\(destination) (\(w)×\(h) → \(result.picture.width)×\(result.picture.height), \(result.evaluations) network evaluations\(tiled))"
    }
  }
}

extension UpsamplingMode: ExpressibleByArgument {}
extension ODEMethod: ExpressibleByArgument {}
extension ImageFormat: ExpressibleByArgument {}
