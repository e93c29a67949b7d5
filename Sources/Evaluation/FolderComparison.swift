import Foundation
import Torch

/// FID and KID between two folders of images (`python -m pytorch_fid`'s convention; KID the
/// unbiased MMD² over random subsets of min(n₁, n₂, `kidSubsetSize`)).
public struct FolderComparison {
  public let features: FolderFeatures
  public var kidSubsets = 100
  public var kidSubsetSize = 1000

  public init(features: FolderFeatures) { self.features = features }

  public struct Result {
    public let fid: Double
    public let kid: (mean: Double, std: Double)
    public let images: (Int, Int)
  }

  /// `progress(folder, done, total)` as each folder's features are computed.
  public func compare(_ first: String, _ second: String, progress: (String, Int, Int) -> Void = { _, _, _ in }) throws -> Result {
    let sets = try [first, second].map { folder in try features.features(of: folder) { progress(folder, $0, $1) } }
    let fid = try frechetDistance(FeatureStatistics(sets[0]), FeatureStatistics(sets[1]))
    let kid = try KernelInceptionDistance.estimate(sets[0], sets[1], subsets: kidSubsets, subsetSize: kidSubsetSize)
    return Result(fid: fid, kid: (kid.mean, kid.std), images: (sets[0].size(0), sets[1].size(0)))
  }
}
