import Torch

/// Adam and AdamW with `torch.optim` semantics (bias correction, eps outside the square root,
/// L2 weight decay added to the gradient for Adam, decoupled decay for AdamW).
public final class Adam {
  public struct Hyperparameters: Sendable, Equatable {
    public var lr: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double
    /// AdamW: decay the weights directly (p ← p·(1 − lr·wd)) instead of adding wd·p to the gradient.
    public var decoupledWeightDecay: Bool

    public init(lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
      self.lr = lr
      self.beta1 = beta1
      self.beta2 = beta2
      self.eps = eps
      self.weightDecay = weightDecay
      self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW's defaults (weight decay 0.01).
    public static func adamW(lr: Double = 1e-3, weightDecay: Double = 0.01) -> Hyperparameters {
      Hyperparameters(lr: lr, weightDecay: weightDecay, decoupledWeightDecay: true)
    }
  }

  /// Moments of one parameter.
  final class Moments {
    var step = 0
    let expAvg: Tensor
    let expAvgSq: Tensor
    init(expAvg: Tensor, expAvgSq: Tensor, step: Int) {
      self.expAvg = expAvg
      self.expAvgSq = expAvgSq
      self.step = step
    }
  }

  public var hyperparameters: Hyperparameters
  /// The parameters in order, with the names used in the state dict.
  public let parameters: [(name: String, parameter: Parameter)]
  private var moments: [ObjectIdentifier: Moments] = [:]

  public init(_ parameters: [(String, Parameter)], _ hyperparameters: Hyperparameters = .init()) {
    self.parameters = parameters.map { (name: $0.0, parameter: $0.1) }
    self.hyperparameters = hyperparameters
  }

  /// The learning rate the next step uses (schedules set it before each step).
  public var lr: Double {
    get { hyperparameters.lr }
    set { hyperparameters.lr = newValue }
  }

  /// Updates every parameter that has a gradient.
  public func step() throws {
    let h = hyperparameters
    try withNoGrad {
      for (_, slot) in parameters {
        let param = slot.value
        guard var grad = param.grad else { continue }
        let m = try moments(for: slot)
        m.step += 1
        if h.weightDecay != 0 {
          if h.decoupledWeightDecay {
            try param.mul_(1 - h.lr * h.weightDecay)
          } else {
            grad = try grad + param * h.weightDecay
          }
        }
        try m.expAvg.lerp_(grad, weight: 1 - h.beta1)
        try m.expAvgSq.mul_(h.beta2)
        try m.expAvgSq.addcmul_(grad, grad, value: 1 - h.beta2)
        let biasCorrection1 = 1 - cPow(h.beta1, Double(m.step))
        let biasCorrection2 = 1 - cPow(h.beta2, Double(m.step))
        let denom = try m.expAvgSq.sqrt() / biasCorrection2.squareRoot() + h.eps
        try param.addcdiv_(m.expAvg, denom, value: -h.lr / biasCorrection1)
      }
    }
  }

  private func moments(for slot: Parameter) throws -> Moments {
    if let m = moments[ObjectIdentifier(slot)] { return m }
    let m = Moments(expAvg: try slot.value.detach().zerosLike(), expAvgSq: try slot.value.detach().zerosLike(), step: 0)
    moments[ObjectIdentifier(slot)] = m
    return m
  }

  /// Drops the gradients of all parameters.
  public func zeroGrad() throws {
    for (_, slot) in parameters { try slot.value.zeroGrad() }
  }

  /// The optimiser state as flat tensors: `<name>.exp_avg`, `<name>.exp_avg_sq`, `<name>.step`.
  public func stateDict() throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for (name, slot) in parameters {
      guard let m = moments[ObjectIdentifier(slot)] else { continue }
      result[name + ".exp_avg"] = m.expAvg
      result[name + ".exp_avg_sq"] = m.expAvgSq
      result[name + ".step"] = try Tensor(scalar: Int64(m.step))
    }
    return result
  }

  /// Restores a state from `stateDict()`; every entry must match a parameter's name and shape.
  public func load(stateDict: [String: Tensor]) throws {
    var restored: [ObjectIdentifier: Moments] = [:]
    for (name, slot) in parameters {
      guard let avg = stateDict[name + ".exp_avg"] else { continue }
      guard let sq = stateDict[name + ".exp_avg_sq"], let step = stateDict[name + ".step"],
        avg.shape == slot.value.shape, sq.shape == slot.value.shape
      else {
        throw TorchError.invalidArgument("optimizer state for \(name) is incomplete or has the wrong shape")
      }
      restored[ObjectIdentifier(slot)] = Moments(
        expAvg: try avg.to(slot.value.dtype).placed(on: slot.value.device), expAvgSq: try sq.to(slot.value.dtype).placed(on: slot.value.device), step: try step.itemInt())
    }
    let names = Set(parameters.map(\.name))
    for key in stateDict.keys {
      let base = key.split(separator: ".").dropLast().joined(separator: ".")
      guard names.contains(base) else {
        throw TorchError.invalidArgument("optimizer state has an entry for an unknown parameter: \(key)")
      }
    }
    moments = restored
  }
}

