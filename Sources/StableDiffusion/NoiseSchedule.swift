import FMBoost
import Foundation

/// SD1.5's training noise schedule and the inference time grids of diffusers' schedulers
/// (`set_timesteps` with SD1.5's `steps_offset` 1), as plain numbers.
public struct NoiseSchedule: Sendable {
  public static let trainSteps = 1000
  /// ᾱ_t for t = 0…999: betas = linspace(√0.00085, √0.012, 1000)², ᾱ = ∏(1 − β), in float32 as
  /// diffusers computes it.
  public let alphasCumprod: [Double]
  /// σ_t = √((1 − ᾱ_t)/ᾱ_t) and its logarithm, t = 0…999.
  public let sigmaTable: [Double]
  let logSigmas: [Double]

  public init(betaStart: Double = 0.00085, betaEnd: Double = 0.012) {
    let (a, b) = (Float(betaStart.squareRoot()), Float(betaEnd.squareRoot()))
    let n = Self.trainSteps
    var product: Float = 1
    alphasCumprod = (0..<n).map { i in
      // torch.linspace fills the first half from the start and the second from the end.
      let step = (b - a) / Float(n - 1)
      let root = i < n / 2 ? a + step * Float(i) : b - step * Float(n - 1 - i)
      product *= 1 - root * root
      return Double(product)
    }
    sigmaTable = alphasCumprod.map { ((1 - $0) / $0).squareRoot() }
    logSigmas = sigmaTable.map { log($0) }
  }

  public enum Spacing: String, Sendable, CaseIterable { case leading, linspace, trailing }
  public enum Scheduler: String, Sendable { case ddim, euler, dpmSolver, lcm }

  /// The timesteps of `steps` inference steps, high to low.
  public func timesteps(_ scheduler: Scheduler, steps n: Int, spacing: Spacing = .leading, lcmOriginalSteps: Int = 50) -> [Double] {
    let total = Self.trainSteps
    func even(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }
    func linspace(_ start: Double, _ end: Double, _ count: Int) -> [Double] {
      count == 1 ? [start] : (0..<count).map { start + (end - start) * Double($0) / Double(count - 1) }
    }
    switch scheduler {
    case .lcm:
      let c = total / lcmOriginalSteps
      let origin = (1...lcmOriginalSteps).map { Double($0 * c - 1) }.reversed().map { $0 }
      return (0..<n).map { origin[Int((Double($0) * Double(origin.count) / Double(n)).rounded(.down))] }
    case .dpmSolver:
      // DPM-Solver++ spaces n + 1 points and drops the last.
      switch spacing {
      case .leading: return (0...n).map { Double($0 * (total / (n + 1)) + 1) }.reversed().dropLast()
      case .linspace: return linspace(0, Double(total - 1), n + 1).map(even).reversed().dropLast()
      case .trailing: return trailing(n)
      }
    case .ddim, .euler:
      switch spacing {
      case .leading: return (0..<n).map { Double($0 * (total / n) + 1) }.reversed()
      case .linspace: return linspace(0, Double(total - 1), n).map { scheduler == .ddim ? even($0) : Double(Float($0)) }.reversed()
      case .trailing: return trailing(n)
      }
    }
  }

  /// round(arange(1000, 0, −1000/n)) − 1.
  private func trailing(_ n: Int) -> [Double] {
    let ratio = Double(Self.trainSteps) / Double(n)
    return (0..<n).map { (Double(Self.trainSteps) - Double($0) * ratio).rounded(.toNearestOrEven) - 1 }
  }

  /// σ(t) = √((1 − ᾱ)/ᾱ), linearly interpolated between integer t, for each timestep, then a 0.
  public func sigmas(at timesteps: [Double]) -> [Double] {
    let table = sigmaTable
    return timesteps.map { t in
      let low = max(0, min(table.count - 1, Int(t.rounded(.down))))
      let high = min(table.count - 1, low + 1)
      let f = t - Double(low)
      return table[low] + (table[high] - table[low]) * f
    } + [0]
  }

  /// Karras et al.'s σ grid: (σ_max^{1/ρ} + r·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for r = linspace(0, 1, n), ρ = 7.
  public static func karras(max: Double, min: Double, steps n: Int, rho: Double = 7) -> [Double] {
    let (high, low) = (pow(max, 1 / rho), pow(min, 1 / rho))
    return (0..<n).map { pow(high + (n == 1 ? 0 : Double($0) / Double(n - 1)) * (low - high), rho) }
  }

  /// The fractional timestep of σ (diffusers' `_sigma_to_t`): linear in log σ between the two
  /// neighbouring integer timesteps, clamped to [0, 999].
  public func timestep(ofSigma sigma: Double) -> Double {
    let logSigma = log(Swift.max(sigma, 1e-10))
    let low = Swift.min(logSigmas.count - 2, Swift.max(0, (logSigmas.lastIndex { $0 <= logSigma } ?? 0)))
    let w = Swift.min(1, Swift.max(0, (logSigmas[low] - logSigma) / (logSigmas[low] - logSigmas[low + 1])))
    return (1 - w) * Double(low) + w * Double(low + 1)
  }
}
