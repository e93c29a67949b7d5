import Torch

/// A module with a single tensor input and output.
public protocol Layer: Module {
  func callAsFunction(_ x: Tensor) throws -> Tensor
}

public final class Identity: Module, Layer {
  public override init() { super.init() }
  public func callAsFunction(_ x: Tensor) throws -> Tensor { x }
}

public final class SiLU: Module, Layer {
  public override init() { super.init() }
  public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.silu() }
}

public final class ReLU: Module, Layer {
  public override init() { super.init() }
  public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.relu() }
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
