import Torch

/// The original's patch FID (`ImageMetricTracker(num_crops, crop_size)`): `crops` random crop
/// anchors per image, shared by the reference and every method, the crops' Inception features
/// gathered per method, then FID and KID of each method against the reference.
public final class PatchFID {
  public struct Result: Sendable {
    public let fid: Double
    public let kidMean: Double
    public let kidStd: Double
    public let samples: Int
  }

  public let network: FIDInception
  public let crops: Int
  public let cropSize: Int
  private var features: [String: [Tensor]] = [:]
  public private(set) var methods: [String] = []

  public init(network: FIDInception, crops: Int, cropSize: Int) throws {
    guard crops >= 1, cropSize >= 16 else { throw TorchError.invalidArgument("patch FID needs at least one crop of at least 16 pixels") }
    self.network = network
    self.crops = crops
    self.cropSize = cropSize
  }

  /// Crop corners (y, x) for an image of `height` × `width`, uniform as torchvision's
  /// `RandomCrop.get_params`; crops are at most the image's short side.
  public func anchors(height: Int, width: Int, generator: Generator) throws -> [(y: Int, x: Int)] {
    let size = min(cropSize, height, width)
    return try (0..<crops).map { _ in
      (try Tensor.randint(0, height - size + 1, [1], generator: generator).itemInt(),
       try Tensor.randint(0, width - size + 1, [1], generator: generator).itemInt())
    }
  }

  /// Adds the crops of `image` (1, 3, H, W) in [−1, 1] at `anchors` to `method`'s set. Crops are
  /// quantised to 8 bits first, as if written to PNG.
  public func add(_ image: Tensor, anchors: [(y: Int, x: Int)], method: String) throws {
    let size = min(cropSize, image.size(2), image.size(3))
    let pieces = try anchors.map { a in try image.narrow(dim: 2, start: a.y, length: size).narrow(dim: 3, start: a.x, length: size) }
    let pixels = try ((Tensor.cat(pieces, dim: 0).clamp(min: -1, max: 1) + 1) * 127.5).round()
    let batch = try network.features(FIDInception.preprocess(pixels))
    if features[method] == nil { methods.append(method) }
    features[method, default: []].append(batch)
  }

  /// FID and KID of every method against `reference`'s crops.
  public func results(reference: String, kidSubsets: Int = 100, kidSubsetSize: Int = 1000) throws -> [String: Result] {
    guard let real = features[reference] else { throw TorchError.invalidArgument("no crops of the reference '\(reference)'") }
    let realFeatures = try Tensor.cat(real, dim: 0)
    guard realFeatures.size(0) >= 4 else {
      throw TorchError.invalidArgument("FID and KID need at least 4 crops, got \(realFeatures.size(0)) (raise num_crops or the validation images)")
    }
    let realStatistics = try FeatureStatistics(realFeatures)
    var results: [String: Result] = [:]
    for method in methods where method != reference {
      let fake = try Tensor.cat(features[method]!, dim: 0)
      let kid = try KernelInceptionDistance.estimate(realFeatures, fake, subsets: kidSubsets, subsetSize: kidSubsetSize)
      results[method] = Result(fid: try frechetDistance(realStatistics, FeatureStatistics(fake)), kidMean: kid.mean, kidStd: kid.std,
                               samples: fake.size(0))
    }
    return results
  }
}
