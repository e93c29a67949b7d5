import FMBoost
import Torch

/// diffusers' `DDIMScheduler` step with eta 0 and ε-prediction: x̂₀ = (x − √(1−ᾱ_t)·ε)/√ᾱ_t, then
/// x_prev = √ᾱ_prev·x̂₀ + √(1−ᾱ_prev)·ε, where prev = t − 1000/n and ᾱ_prev = ᾱ₀ past the end
/// (SD1.5's `set_alpha_to_one` false).
public struct DDIMSampler: DiffusionSampler, Sendable {
  public let schedule: NoiseSchedule
  public let timesteps: [Double]
  let stepRatio: Int

  public init(schedule: NoiseSchedule = NoiseSchedule(), steps: Int, spacing: NoiseSchedule.Spacing = .leading) {
    self.schedule = schedule
    timesteps = schedule.timesteps(.ddim, steps: steps, spacing: spacing)
    stepRatio = NoiseSchedule.trainSteps / steps
  }

  public func step(_ x: Tensor, eps: Tensor, step i: Int, noise: () throws -> Tensor) throws -> (prev: Tensor, predX0: Tensor) {
    let ac = schedule.alphasCumprod
    let t = Int(timesteps[i])
    let a = ac[t]
    let previous = t - stepRatio
    let aPrev = previous >= 0 ? ac[previous] : ac[0]
    let predX0 = try (x - eps * (1 - a).squareRoot()) / a.squareRoot()
    return (try predX0 * aPrev.squareRoot() + eps * (1 - aPrev).squareRoot(), predX0)
  }
}
