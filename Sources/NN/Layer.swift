import Torch

/// A module with a single tensor input and output.
public protocol Layer: Module {
  func callAsFunction(_ x: Tensor) throws -> Tensor
}

public final class Identity: Module, Layer {
  public override init() { super.init() }
  public func callAsFunction(_ x: Tensor) throws -> Tensor { x }
}

/// `nn.SiLU`; with `overwritesInput` (PyTorch's `inplace=True`) it writes over its input when no
/// gradient is recorded: only for an input that is a fresh intermediate, such as a norm's output.
public final class SiLU: Module, Layer {
  public let overwritesInput: Bool
  public init(overwritesInput: Bool = false) {
    self.overwritesInput = overwritesInput
    super.init()
  }
  public func callAsFunction(_ x: Tensor) throws -> Tensor { try overwritesInput ? x.siluOverwriting() : x.silu() }
}

/// `nn.ReLU`; `overwritesInput` as for `SiLU`.
public final class ReLU: Module, Layer {
  public let overwritesInput: Bool
  public init(overwritesInput: Bool = false) {
    self.overwritesInput = overwritesInput
    super.init()
  }
  public func callAsFunction(_ x: Tensor) throws -> Tensor { try overwritesInput ? x.reluOverwriting() : x.relu() }
}

public final class Dropout: Module, Layer {
  public let p: Double
  public var generator: Generator?

  public init(_ p: Double = 0.5, generator: Generator? = nil) {
    self.p = p
    self.generator = generator
    super.init()
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try x.dropout(p: p, training: isTraining, generator: generator)
  }
}
