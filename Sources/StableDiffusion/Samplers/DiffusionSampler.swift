import FMBoost
import Torch

/// One of diffusers' schedulers with ε-prediction, as a loop body: for step i, the network sees
/// `modelInput(x, i)` at `timesteps[i]`, and `step` turns its (guided) ε into the next sample.
public protocol DiffusionSampler {
  /// The network's timesteps, high to low.
  var timesteps: [Double] { get }
  /// x_T = initNoiseSigma · N(0, I).
  var initNoiseSigma: Double { get }
  func modelInput(_ x: Tensor, step i: Int) throws -> Tensor
  /// Step `i` from x with the network's ε: (next sample, its estimate of x₀). `noise()` draws
  /// N(0, I) shaped like x; only the stochastic samplers call it.
  mutating func step(_ x: Tensor, eps: Tensor, step i: Int, noise: () throws -> Tensor) throws -> (prev: Tensor, predX0: Tensor)
}

extension DiffusionSampler {
  public var initNoiseSigma: Double { 1 }
  public func modelInput(_ x: Tensor, step i: Int) throws -> Tensor { x }

  /// A step of a sampler that draws no noise (DDIM, Euler, DPM-Solver++).
  public mutating func step(_ x: Tensor, eps: Tensor, step i: Int) throws -> (prev: Tensor, predX0: Tensor) {
    try step(x, eps: eps, step: i, noise: { throw TorchError.invalidArgument("\(Self.self) draws no noise") })
  }
}

/// The schedulers `generate` and `forward sd-sample` offer (`--scheduler`).
public enum SamplerKind: String, CaseIterable, Sendable {
  case ddim, euler, eulerAncestral = "euler-a", dpmSolver = "dpmpp-2m", lcm

  /// A fresh sampler of `steps` steps; `karras` (Euler and DPM-Solver++ only) spaces σ as Karras et al.
  public func make(steps: Int, spacing: NoiseSchedule.Spacing = .leading, karras: Bool = false,
                   schedule: NoiseSchedule = NoiseSchedule()) throws -> any DiffusionSampler {
    guard steps >= 1 else { throw TorchError.invalidArgument("the number of steps must be at least 1, got \(steps)") }
    if karras, ![.euler, .eulerAncestral, .dpmSolver].contains(self) {
      throw TorchError.invalidArgument("Karras sigmas apply to euler, euler-a and dpmpp-2m, not \(rawValue)")
    }
    switch self {
    case .ddim: return DDIMSampler(schedule: schedule, steps: steps, spacing: spacing)
    case .euler, .eulerAncestral: return EulerSampler(schedule: schedule, steps: steps, spacing: spacing, karras: karras, ancestral: self == .eulerAncestral)
    case .dpmSolver: return DPMSolverSampler(schedule: schedule, steps: steps, spacing: spacing, karras: karras)
    case .lcm: return LCMSampler(schedule: schedule, steps: steps)
    }
  }
}

/// Classifier-free guidance: ε_uncond + scale·(ε_cond − ε_uncond).
public func classifierFreeGuidance(uncond: Tensor, cond: Tensor, scale: Double) throws -> Tensor {
  try uncond + (cond - uncond) * scale
}
