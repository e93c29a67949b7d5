import Foundation
import Torch

/// An exponential moving average of a module's weights, exactly as the original (lucidrains'
/// ema-pytorch): hard copies up to `updateAfterStep`, then
/// ema ← lerp(ema, online, 1 − decay) with decay = clamp(1 − (1 + e/γ)^(−power), min, β),
/// e = calls − updateAfterStep − 1.
public final class EMA {
  public let online: Module
  /// The averaged copy (same architecture, frozen).
  public let shadow: Module
  public let beta: Double
  public let updateAfterStep: Int
  public let updateEvery: Int
  public let power: Double
  public let invGamma: Double
  public let minValue: Double
  /// Number of `update()` calls so far (the `step` buffer).
  public private(set) var step = 0
  /// Whether the first post-warm-up copy happened (the `initted` buffer).
  public private(set) var initted = false

  /// `shadow` must have the same architecture as `online`; it starts as a copy of it.
  public init(online: Module, shadow: Module, beta: Double = 0.999, updateAfterStep: Int = 1000, updateEvery: Int = 1,
              power: Double = 3.0 / 4, invGamma: Double = 1, minValue: Double = 0) throws {
    let a = online.namedSlots().map { ($0.0, $0.1.value.shape) }, b = shadow.namedSlots().map { ($0.0, $0.1.value.shape) }
    guard a.map(\.0) == b.map(\.0), a.map(\.1) == b.map(\.1) else {
      throw TorchError.invalidArgument("EMA: the shadow module's parameters differ from the online module's")
    }
    self.online = online
    self.shadow = shadow
    self.beta = beta
    self.updateAfterStep = updateAfterStep
    self.updateEvery = max(1, updateEvery)
    self.power = power
    self.invGamma = invGamma
    self.minValue = minValue
    for (_, p) in shadow.namedSlots() where p.value.requiresGrad { p.value = try p.value.detach() }
    try copyOnlineToShadow()
  }

  /// The decay the next averaging uses (after `step` was advanced).
  public var currentDecay: Double {
    let epoch = Double(max(0, step - updateAfterStep - 1))
    if epoch <= 0 { return 0 }
    let value = 1 - pow(1 + epoch / invGamma, -power)
    return min(max(value, minValue), beta)
  }

  public func update() throws {
    let n = step
    step += 1
    if n % updateEvery != 0 { return }
    if n <= updateAfterStep {
      try copyOnlineToShadow()
      return
    }
    if !initted {
      try copyOnlineToShadow()
      initted = true
    }
    let weight = 1 - currentDecay
    try withNoGrad {
      for ((_, s), (_, o)) in zip(shadow.namedSlots(), online.namedSlots()) {
        if s.value.dtype.isFloatingPoint { try s.value.lerp_(o.value, weight: weight) } else { try s.value.copy_(o.value) }
      }
    }
  }

  private func copyOnlineToShadow() throws {
    try withNoGrad {
      for ((_, s), (_, o)) in zip(shadow.namedSlots(), online.namedSlots()) { try s.value.copy_(o.value) }
    }
  }

  /// The bookkeeping for checkpoints: `initted` and `step`, as the original's buffers.
  public func bookkeeping() throws -> [String: Tensor] {
    ["initted": try Tensor(scalar: initted), "step": try Tensor(scalar: Int64(step))]
  }

  public func restore(bookkeeping: [String: Tensor]) throws {
    guard let s = bookkeeping["step"], let i = bookkeeping["initted"] else {
      throw TorchError.invalidArgument("EMA state needs `step` and `initted`")
    }
    step = try s.itemInt()
    initted = try i.item() != 0
  }
}
