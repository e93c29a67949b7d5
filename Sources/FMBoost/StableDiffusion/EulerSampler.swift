import Torch

/// diffusers' `EulerDiscreteScheduler` with ε-prediction (interpolation linear, final σ 0): the
/// input scaled by 1/√(σ²+1), x̂₀ = x − σ·ε, x_next = x + ε·(σ_next − σ).
public struct EulerSampler: Sendable {
  public let timesteps: [Double]
  /// σ per step and a final 0.
  public let sigmas: [Double]

  public init(schedule: NoiseSchedule = NoiseSchedule(), steps: Int, spacing: NoiseSchedule.Spacing = .leading) {
    timesteps = schedule.timesteps(.euler, steps: steps, spacing: spacing)
    sigmas = schedule.sigmas(at: timesteps)
  }

  /// The initial noise's scale: σ_max, or √(σ_max² + 1) with leading spacing, as diffusers has it.
  public func initNoiseSigma(spacing: NoiseSchedule.Spacing = .leading) -> Double {
    let top = sigmas.max() ?? 0
    return spacing == .leading ? (top * top + 1).squareRoot() : top
  }

  /// The network's input at step `i`.
  public func scaleModelInput(_ x: Tensor, step i: Int) throws -> Tensor {
    try x / (sigmas[i] * sigmas[i] + 1).squareRoot()
  }

  /// Step `i` from x with the (guided) noise prediction eps: (x_next, x̂₀).
  public func step(_ x: Tensor, eps: Tensor, step i: Int) throws -> (prev: Tensor, predX0: Tensor) {
    (try x + eps * (sigmas[i + 1] - sigmas[i]), try x - eps * sigmas[i])
  }
}
