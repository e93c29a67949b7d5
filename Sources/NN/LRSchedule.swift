#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Learning-rate multipliers λ(step) of the original's schedules (HF transformers' definitions).
public enum LRSchedule: Sendable, Equatable {
  case constant
  /// λ(s) = s / max(1, warmup) below warm-up, then 1.
  case constantWithWarmup(warmupSteps: Int)
  /// Linear warm-up, then a half-cosine (num_cycles 0.5) down to 0 at `totalSteps`.
  case cosineWithWarmup(warmupSteps: Int, totalSteps: Int, cycles: Double = 0.5)

  public func multiplier(at step: Int) -> Double {
    switch self {
    case .constant:
      return 1
    case .constantWithWarmup(let warmup):
      return step < warmup ? Double(step) / Double(max(1, warmup)) : 1
    case .cosineWithWarmup(let warmup, let total, let cycles):
      if step < warmup { return Double(step) / Double(max(1, warmup)) }
      let progress = Double(step - warmup) / Double(max(1, total - warmup))
      return max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress)))
    }
  }
}
