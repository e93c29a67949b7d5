import Foundation

/// A mean with its 95 % confidence interval (Student's t over the values).
public struct Estimate: Sendable {
  public let mean: Double
  public let halfWidth: Double
  public let count: Int

  public init(_ values: [Double]) {
    count = values.count
    let mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    self.mean = mean
    guard values.count > 1 else {
      halfWidth = .nan
      return
    }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    halfWidth = Self.t975(degreesOfFreedom: values.count - 1) * (variance / Double(values.count)).squareRoot()
  }

  public var low: Double { mean - halfWidth }
  public var high: Double { mean + halfWidth }

  /// "mean ± half-width" with `digits` decimals.
  public func text(_ digits: Int) -> String {
    halfWidth.isNaN ? String(format: "%.\(digits)f", mean) : String(format: "%.\(digits)f ± %.\(digits)f", mean, halfWidth)
  }

  /// The 97.5 % quantile of Student's t: tabulated to 30 degrees of freedom, beyond that the
  /// Cornish–Fisher expansion about the normal's 1.95996 (within 0.01 % there).
  static func t975(degreesOfFreedom n: Int) -> Double {
    let table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
    if n <= table.count { return table[max(1, n) - 1] }
    let z = 1.959964, d = Double(n)
    let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
    return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d * d * d)
  }
}
