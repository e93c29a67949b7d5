import Evaluation
import FileSupport
import FMBoost
import Foundation
import Imaging
import Torch

/// `fmboost eval` as a library call: the super-resolution literature's protocol on a folder of
/// photos — each optionally downscaled and centre-cropped, downsampled by the model's scale per stage, brought back
/// by bilinear, bicubic and the model at every step count, and scored against the original
/// (`UpsamplingEvaluation`); optionally patch FID/KID and comparison panels.
public struct EvaluationPipeline {
  public struct Configuration {
    /// ODE step counts to sweep (empty: the model's).
    public var stepCounts: [Int] = []
    public var method: ODEMethod?
    /// Downscale images whose short side is longer than this first (0: never), then centre-crop to
    /// at most `maxSide` a side (0: no limit).
    public var maxShortSide = 0, maxSide = 0
    /// Stages of the model in a row (`UpsamplingPipeline.stages(forScale:)`).
    public var stages = 1
    public var seed: UInt64 = 2024
    /// Patch FID and KID with this Inception network file, `crops` crops of `cropSize` per image.
    public var inception: String?
    public var crops = 32, cropSize = 128
    /// A folder for per-image strips of the most detailed window (`panelSize` pixels).
    public var panels: String?
    public var panelSize = 160
    /// Done to every low-resolution input before the methods see it (nil: clean downscales).
    public var degradation: LowResolutionDegradation?
    /// Where `run` writes every score as CSV (nil: nowhere).
    public var csv: String?
    /// Only this shard's part of the images (their scores and panels; an image's patch anchors and
    /// scores are those of an unsharded run): its CSV is `<csv name>-I-of-N.csv`, its manifest
    /// beside it (in the current folder without a CSV).
    public var shard: Shard?

    /// The CSV file written, with the shard in its name.
    public var csvPath: String? {
      guard let csv, let shard else { return csv }
      return (csv as NSString).deletingPathExtension + "-\(shard.index)-of-\(shard.count).csv"
    }

    /// Where a shard's manifest goes.
    public var manifestFolder: String {
      let folder = ((csv ?? "") as NSString).deletingLastPathComponent
      return folder.isEmpty ? "." : folder
    }

    public init() {}
  }

  public struct Report {
    public let scores: [UpsamplingEvaluation.Score]
    public let means: [UpsamplingEvaluation.Score]
    public let perceptual: [String: PatchFID.Result]
    public let patches: PatchFID?

    /// The table of means (and FID/KID).
    public var table: String { UpsamplingEvaluation.table(means, fid: perceptual) }

    /// Every score and the means as CSV, written atomically.
    public func writeCSV(to path: String) throws {
      try FileBatch.prepareParent(of: path)
      try AtomicFile.write(Data(UpsamplingEvaluation.csv(scores + means, fid: perceptual).utf8), to: URL(fileURLWithPath: path))
    }
  }

  public let comparison: UpsamplingComparison
  public let configuration: Configuration

  /// The models of `upsampling` at each step count of `configuration`; `inception`, where given,
  /// instead of loading `configuration.inception` (a study that evaluates many models loads it once).
  public init(_ upsampling: UpsamplingPipeline, configuration: Configuration, inception: FIDInception? = nil) throws {
    var recipe = upsampling.recipe
    if let method = configuration.method { recipe.method = method }
    let models = try (configuration.stepCounts.isEmpty ? [recipe.steps] : configuration.stepCounts).map { n in
      recipe.steps = n
      return UpsamplingComparison.Model(label: "model \(recipe.method.rawValue) \(n) step\(n == 1 ? "" : "s")", upsampler: try upsampling.makeUpsampler(recipe: recipe))
    }
    let network = try inception ?? configuration.inception.map { try FIDInception(path: $0, device: upsampling.device) }
    let patches = try network.map { try PatchFID(network: $0, crops: configuration.crops, cropSize: configuration.cropSize) }
    comparison = try UpsamplingComparison(models: models, stages: configuration.stages, patches: patches, seed: configuration.seed,
                                      degradation: configuration.degradation)
    self.configuration = configuration
  }

  /// Evaluates every image of `inputs` (files or folders; with a shard, its part), reporting each
  /// image's outcome.
  public func run(_ inputs: [String], report: (FileBatch.Outcome) -> Void) throws -> Report {
    let c = configuration
    if let panels = c.panels { try FileBatch.prepareDirectory(panels) }
    var scores: [UpsamplingEvaluation.Score] = []
    let all = FileBatch.expand(inputs, extensions: ImageFile.extensions)
    let position = Dictionary(all.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
    let files = c.shard.map { $0.select(all) } ?? all
    let manifest = try c.shard.map { try Manifest(folder: c.manifestFolder, shard: $0, inputs: files) }
    try FileBatch.run(files, manifest: manifest, seed: { _ in c.seed }, report: report) { _, input in
      let index = position[input.path]!
      let image = try UpsamplingEvaluation.limitShortSide(try ImageFile.read(input.path, range: .symmetric), to: c.maxShortSide)
      let original = try UpsamplingEvaluation.prepare(image, scale: comparison.scale, maxSide: c.maxSide)
      let (mine, shown) = try comparison.evaluate(original, name: input.relative, anchorSeed: c.seed &+ UInt64(index))
      scores += mine
      if let panels = c.panels {
        let window = try ComparisonPanel.detailWindow(original, size: c.panelSize)
        let path = (panels as NSString).appendingPathComponent((input.relative as NSString).deletingPathExtension + ".png")
        try FileBatch.prepareParent(of: path)
        try ImageFile.write(try ComparisonPanel.strip(shown + [original], window: window, size: c.panelSize), to: path, range: .symmetric)
      }
      return FileBatch.Done(output: nil, summary: mine.map { String(format: "%@ %.2f dB", $0.method, $0.psnr) }.joined(separator: ", "))
    }
    let perceptual = try comparison.patches?.results(reference: "original") ?? [:]
    let report = Report(scores: scores, means: UpsamplingEvaluation.means(scores), perceptual: perceptual, patches: comparison.patches)
    if let path = c.csvPath { try report.writeCSV(to: path) }
    return report
  }
}
