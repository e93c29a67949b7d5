import Torch

/// Mean and covariance of a set of features, in float64 (the statistics FID compares).
public struct FeatureStatistics {
  public let count: Int
  public let mean: Tensor
  public let covariance: Tensor

  /// `features` (N, d), N ≥ 2; the covariance with N − 1 in the denominator (numpy's `np.cov`).
  public init(_ features: Tensor) throws {
    guard features.rank == 2, features.size(0) >= 2 else {
      throw TorchError.invalidArgument("feature statistics need at least two (N, d) feature vectors, got \(features.shape)")
    }
    let x = try features.to(.float64)
    count = x.size(0)
    mean = try x.mean([0])
    let centred = try x - mean
    covariance = try centred.transpose(0, 1).matmul(centred) / Double(count - 1)
  }
}

/// The Fréchet distance between two Gaussians fitted to Inception features (FID):
/// ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr √(Σ₁Σ₂). The trace of the matrix square root is taken from the
/// eigenvalues of the symmetric √Σ₁ Σ₂ √Σ₁ (negative rounding residue clipped to 0), which is
/// stable where `scipy.linalg.sqrtm` needs its offset fallback (singular covariances).
public func frechetDistance(_ a: FeatureStatistics, _ b: FeatureStatistics) throws -> Double {
  let difference = try (a.mean - b.mean).square().sum().item()
  let (values, vectors) = try a.covariance.symmetricEigen()
  let root = try vectors.matmul(vectors.transpose(0, 1) * values.clamp(min: 0).sqrt().reshape([-1, 1]))
  var product = try root.matmul(b.covariance).matmul(root)
  product = try (product + product.transpose(0, 1)) / 2
  let traceRoot = try product.symmetricEigen().values.clamp(min: 0).sqrt().sum().item()
  return difference + (try trace(a.covariance)) + (try trace(b.covariance)) - 2 * traceRoot
}

func trace(_ m: Tensor) throws -> Double {
  let n = m.size(0)
  return try m.reshape([-1]).slice(dim: 0, step: n + 1).sum().item()
}

/// Kernel Inception Distance: the unbiased MMD² between two feature sets under the polynomial
/// kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets (torchmetrics' and clean-fid's
/// estimator). Unlike FID it is unbiased at the few hundred samples a CPU evaluation affords.
public enum KernelInceptionDistance {
  /// MMD² of `x` (m, d) and `y` (n, d) over all their samples.
  public static func mmd(_ x: Tensor, _ y: Tensor) throws -> Double {
    let (x, y) = (try x.to(.float64), try y.to(.float64))
    let d = Double(x.size(1))
    func kernel(_ a: Tensor, _ b: Tensor) throws -> Tensor { try (a.matmul(b.transpose(0, 1)) / d + 1).pow(3) }
    let (m, n) = (Double(x.size(0)), Double(y.size(0)))
    let kxx = try kernel(x, x), kyy = try kernel(y, y), kxy = try kernel(x, y)
    let xx = try (kxx.sum().item() - trace(kxx)) / (m * (m - 1))
    let yy = try (kyy.sum().item() - trace(kyy)) / (n * (n - 1))
    return try xx + yy - 2 * kxy.mean().item()
  }

  /// Mean and (population) standard deviation of `mmd` over `subsets` random subsets of each set,
  /// drawn without replacement, of min(m, n, `subsetSize`) samples: clean-fid's rule, so that sets
  /// smaller than `subsetSize` give the MMD² of the whole sets (with a standard deviation of 0).
  public static func estimate(_ x: Tensor, _ y: Tensor, subsets: Int = 100, subsetSize: Int = 1000, seed: UInt64 = 0) throws -> (mean: Double, std: Double) {
    let size = min(subsetSize, x.size(0), y.size(0))
    guard size >= 2, subsets >= 1 else { throw TorchError.invalidArgument("KID needs at least 2 samples per set and one subset") }
    let generator = try Generator(seed: seed)
    var values: [Double] = []
    for _ in 0..<subsets {
      let i = try Tensor.randperm(x.size(0), generator: generator).slice(dim: 0, end: size)
      let j = try Tensor.randperm(y.size(0), generator: generator).slice(dim: 0, end: size)
      values.append(try mmd(x.indexSelect(dim: 0, i), y.indexSelect(dim: 0, j)))
    }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
    return (mean, variance.squareRoot())
  }
}
