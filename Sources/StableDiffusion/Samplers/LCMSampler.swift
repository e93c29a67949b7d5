import FMBoost
import Foundation
import Torch

/// diffusers' `LCMScheduler` with ε-prediction: the consistency function's boundary scalings at
/// t·10 (σ_data 0.5), c_skip = ¼/((10t)² + ¼), c_out = 10t/√((10t)² + ¼); denoised =
/// c_out·x̂₀ + c_skip·x; then x_prev = √ᾱ_prev·denoised + √(1−ᾱ_prev)·z with fresh noise z, at the
/// next timestep of the grid (the last step returns denoised).
public struct LCMSampler: DiffusionSampler, Sendable {
  public let schedule: NoiseSchedule
  public let timesteps: [Double]

  public init(schedule: NoiseSchedule = NoiseSchedule(), steps: Int, originalSteps: Int = 50) {
    self.schedule = schedule
    timesteps = schedule.timesteps(.lcm, steps: steps, lcmOriginalSteps: originalSteps)
  }

  public func step(_ x: Tensor, eps: Tensor, step i: Int, noise: () throws -> Tensor) throws -> (prev: Tensor, predX0: Tensor) {
    let ac = schedule.alphasCumprod
    let t = timesteps[i]
    let a = ac[Int(t)]
    let scaled = t * 10, sigmaData2 = 0.25
    let cSkip = sigmaData2 / (scaled * scaled + sigmaData2)
    let cOut = scaled / (scaled * scaled + sigmaData2).squareRoot()
    let predX0 = try (x - eps * (1 - a).squareRoot()) / a.squareRoot()
    let denoised = try predX0 * cOut + x * cSkip
    guard i < timesteps.count - 1 else { return (denoised, denoised) }
    let aPrev = ac[Int(timesteps[i + 1])]
    return (try denoised * aPrev.squareRoot() + noise() * (1 - aPrev).squareRoot(), denoised)
  }
}

/// LCM's guidance embedding of w = guidance − 1 (`get_guidance_scale_embedding`): 1000·w times
/// exp(−ln(10⁴)·k/(d/2 − 1)), k < d/2, as [sin, cos].
public func guidanceEmbedding(_ w: Double, dim: Int) throws -> Tensor {
  let half = dim / 2
  let freqs = try (Tensor.arange(0, Double(half)) * (-Foundation.log(10_000.0) / Double(half - 1))).exp()
  let args = try freqs * (w * 1000)
  var embedding = try Tensor.cat([args.sin(), args.cos()], dim: 0).reshape([1, -1])
  if dim % 2 == 1 { embedding = try embedding.pad([0, 1]) }
  return embedding
}
