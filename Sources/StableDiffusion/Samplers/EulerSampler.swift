import FMBoost
import Torch

/// diffusers' `EulerDiscreteScheduler` (interpolation linear, final σ 0) and, with `ancestral`,
/// `EulerAncestralDiscreteScheduler`, with ε-prediction: the input scaled by 1/√(σ²+1),
/// x̂₀ = x − σ·ε, x_next = x + ε·(σ_next − σ); the ancestral step goes to σ_down and adds σ_up of
/// fresh noise, σ_up = √(σ_next²(σ² − σ_next²)/σ²), σ_down = √(σ_next² − σ_up²).
public struct EulerSampler: DiffusionSampler, Sendable {
  public let timesteps: [Double]
  /// σ per step and a final 0.
  public let sigmas: [Double]
  public let ancestral: Bool
  let spacing: NoiseSchedule.Spacing

  public init(schedule: NoiseSchedule = NoiseSchedule(), steps: Int, spacing: NoiseSchedule.Spacing = .leading, karras: Bool = false, ancestral: Bool = false) {
    let grid = schedule.timesteps(.euler, steps: steps, spacing: spacing)
    if karras {
      let interpolated = schedule.sigmas(at: grid).dropLast()
      let karrasSigmas = NoiseSchedule.karras(max: interpolated.first!, min: interpolated.last!, steps: steps)
      timesteps = karrasSigmas.map(schedule.timestep(ofSigma:))
      sigmas = karrasSigmas + [0]
    } else {
      timesteps = grid
      sigmas = schedule.sigmas(at: grid)
    }
    self.ancestral = ancestral
    self.spacing = spacing
  }

  /// σ_max, or √(σ_max² + 1) with leading spacing, as diffusers has it.
  public var initNoiseSigma: Double {
    let top = sigmas.max() ?? 0
    return spacing == .leading ? (top * top + 1).squareRoot() : top
  }

  public func modelInput(_ x: Tensor, step i: Int) throws -> Tensor {
    try x / (sigmas[i] * sigmas[i] + 1).squareRoot()
  }

  public func step(_ x: Tensor, eps: Tensor, step i: Int, noise: () throws -> Tensor) throws -> (prev: Tensor, predX0: Tensor) {
    let (sigma, next) = (sigmas[i], sigmas[i + 1])
    let predX0 = try x - eps * sigma
    guard ancestral else { return (try x + eps * (next - sigma), predX0) }
    let up = (next * next * (sigma * sigma - next * next) / (sigma * sigma)).squareRoot()
    let down = (next * next - up * up).squareRoot()
    return (try x + eps * (down - sigma) + noise() * up, predX0)
  }
}
