import ArgumentParser
import Evaluation
import FMBoost
import Imaging
import Pipelines

/// `fmboost eval DIR`: the model against bilinear and bicubic on ×2 upsampling of real photos.
struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure ×2 (or ×4 with --scale 4) upsampling quality: PSNR, SSIM and sharpness of the model, bilinear and bicubic.",
    discussion: paragraphs("""
      The super-resolution literature's protocol: each image (optionally downscaled to --max-short-side and centre-cropped to --max-side; by default
      used whole) is cropped from the top-left to a multiple of the scale, downsampled by it (bicubic, antialiased), and upsampled back by bilinear,
      bicubic and the model at every --steps count (any size: padded and cropped back); each result is compared with the original, in RGB and on the
      BT.601 luma with a border of the scale shaved. Sharpness is the gradient energy of the result over the original's (1 = as sharp, below 1 =
      blurrier). Prints a table of means and writes every score as CSV (--csv).
      """))

  @Argument(help: "Images (PNG, JPEG, WebP, TIFF) or folders of them.") var inputs: [String]
  @OptionGroup var modelFile: ModelOption
  @Option(help: "The autoencoder, for models without a built-in first stage.") var vae: String?
  @Option(help: "Comma-separated ODE step counts to sweep (default: the model's).") var steps: String?
  @Option(help: "ODE method (default: the model's).") var method: ODEMethod?
  @Option(help: "First downscale (bicubic, antialiased) images whose short side is longer than this (0: never).") var maxShortSide = 0
  @Option(help: "Then centre-crop them to at most this many pixels a side (0: no limit).") var maxSide = 0
  @Option(help: "Write every score to this CSV file (with a shard: <name>-I-of-N.csv, and the shard's manifest beside it).") var csv: String?
  @OptionGroup var sharding: ShardOption
  @OptionGroup var random: SeedOption
  @Flag(help: "Also measure patch FID and KID (the original's protocol: --crops random crops of --crop-size per image, the same anchors for the original and every method).") var fid = false
  @Option(help: "FID: random crops per image.") var crops = 32
  @Option(help: "FID: crop side in pixels (at most the image's short side).") var cropSize = 128
  @Option(help: "FID: the Inception network (default: data/inception/fid_inception_v3.pt from scripts/fetch-inception.sh).") var inception: String?
  @Option(help: "Write into this folder, per image, a strip of the same window: bicubic | the model at each --steps count | original (the window where the original has the most detail).")
  var panels: String?
  @Option(help: "Panels: the window's side in pixels of the original.") var panelSize = 160
  @Option(help: "Run the model in tiles of this many pixels of the output (a multiple of the first stage's factor; blended overlaps), as `upsample --tile` does.") var tile: Int?
  @OptionGroup var threading: ThreadsOption
  @OptionGroup var placement: DeviceOption

  func parsedSteps() throws -> [Int]? {
    guard let steps else { return nil }
    let values = steps.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw ValidationError("--steps must be positive integers separated by commas, got \(steps)") }
    return values.map { $0! }
  }

  func validate() throws {
    _ = try parsedSteps()
    guard maxSide == 0 || maxSide >= 16 else { throw ValidationError("--max-side must be 0 (no limit) or at least 16") }
    guard panelSize >= 16 else { throw ValidationError("--panel-size must be at least 16") }
    guard crops >= 1, cropSize >= 16 else { throw ValidationError("--crops must be at least 1 and --crop-size at least 16") }
  }

  func run() throws {
    threading.apply()
    var upsampling = modelFile.configuration(vae: vae)
    (upsampling.overrides.tilePixels, upsampling.device) = (tile, try placement.resolve())
    let pipeline = try UpsamplingPipeline(upsampling)
    var configuration = EvaluationPipeline.Configuration()
    (configuration.stepCounts, configuration.method, configuration.stages, configuration.seed) = (try parsedSteps() ?? [], method, try modelFile.stages(of: pipeline), random.seed)
    (configuration.maxShortSide, configuration.maxSide, configuration.panels, configuration.panelSize) = (maxShortSide, maxSide, panels, panelSize)
    if fid { configuration.inception = try inception ?? FIDInception.locate() }
    (configuration.crops, configuration.cropSize, configuration.shard, configuration.csv) = (crops, cropSize, try sharding.resolve(), csv)
    defer { if configuration.shard != nil { ShardOption.printCompleteness(folder: configuration.manifestFolder) } }
    let evaluation = try EvaluationPipeline(pipeline, configuration: configuration)
    let limits = (maxShortSide > 0 ? ", short side ≤ \(maxShortSide)" : "") + (maxSide > 0 ? ", at most \(maxSide) px a side" : "")
    print("model \(pipeline.modelPath) (\(pipeline.flow.net.parameterCount.grouped) parameters), first stage \(pipeline.autoencoder.kind); \(FileBatch.expand(inputs, extensions: ImageFile.extensions).count) images, ×\(evaluation.comparison.scale) from bicubic-antialiased downscales\(limits)")
    let report = try evaluation.run(inputs, report: ProgressLine(label: "image").reporting(verb: "evaluated"))
    if let patches = report.patches, let first = report.perceptual.values.first {
      print("patch FID and KID: \(first.samples) crops of at most \(patches.cropSize) px (\(patches.crops) per image) against the originals' crops; FID is biased at this count, KID is not")
    }
    print(report.table)
    if let path = configuration.csvPath { print("wrote \(path)") }
  }
}
