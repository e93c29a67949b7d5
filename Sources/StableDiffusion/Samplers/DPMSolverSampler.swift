import FMBoost
import Foundation
import Torch

/// diffusers' `DPMSolverMultistepScheduler` as SD pipelines use it: DPM-Solver++ of order 2
/// (midpoint), ε-prediction converted to x̂₀, the last step of first order (final σ 0). With
/// α_t = 1/√(σ²+1), σ_t = σ·α_t, λ = log α_t − log σ_t and h = λ_next − λ:
/// first order x' = (σ_t'/σ_t)·x − α_t'·(e^{−h} − 1)·x̂₀; second order adds the midpoint term
/// −½·α_t'·(e^{−h} − 1)·(x̂₀ − x̂₀_prev)·h/h_prev.
public struct DPMSolverSampler: DiffusionSampler {
  public let timesteps: [Double]
  /// σ per step and a final 0.
  public let sigmas: [Double]
  private var previousX0: Tensor?

  public init(schedule: NoiseSchedule = NoiseSchedule(), steps: Int, spacing: NoiseSchedule.Spacing = .leading, karras: Bool = false) {
    if karras {
      // Over the whole training range, not the grid's (unlike Euler), timesteps rounded.
      let karrasSigmas = NoiseSchedule.karras(max: schedule.sigmaTable.last!, min: schedule.sigmaTable.first!, steps: steps)
      timesteps = karrasSigmas.map { schedule.timestep(ofSigma: $0).rounded(.toNearestOrEven) }
      sigmas = karrasSigmas + [0]
    } else {
      timesteps = schedule.timesteps(.dpmSolver, steps: steps, spacing: spacing)
      sigmas = schedule.sigmas(at: timesteps)
    }
  }

  static func alphaSigma(_ sigma: Double) -> (alpha: Double, sigma: Double) {
    let alpha = 1 / (sigma * sigma + 1).squareRoot()
    return (alpha, sigma * alpha)
  }

  static func lambda(_ sigma: Double) -> Double {
    let (a, s) = alphaSigma(sigma)
    return log(a) - log(s)
  }

  public mutating func step(_ x: Tensor, eps: Tensor, step i: Int, noise: () throws -> Tensor) throws -> (prev: Tensor, predX0: Tensor) {
    let (alpha, sigmaT) = Self.alphaSigma(sigmas[i])
    let x0 = try (x - eps * sigmaT) / alpha
    let (alphaNext, sigmaNext) = Self.alphaSigma(sigmas[i + 1])
    let h = Self.lambda(sigmas[i + 1]) - Self.lambda(sigmas[i])
    let factor = alphaNext * (exp(-h) - 1)
    var next = try x * (sigmaNext / sigmaT) - x0 * factor
    let lastStep = i == timesteps.count - 1
    if let previous = previousX0, !lastStep, i > 0 {
      let hPrevious = Self.lambda(sigmas[i]) - Self.lambda(sigmas[i - 1])
      next = try next - (x0 - previous) * (0.5 * factor * h / hPrevious)
    }
    previousX0 = x0
    return (next, x0)
  }
}
