import Torch

/// A module with a single tensor input and output.
public protocol Layer: Module {
  func callAsFunction(_ x: Tensor) throws -> Tensor
}

/// PyTorch's default initialisation of convolution and linear layers: Kaiming-uniform with
/// a = √5 for the weight (bound 1/√fan_in) and U(−1/√fan_in, 1/√fan_in) for the bias.
enum DefaultInit {
  static func weight(_ shape: [Int], fanIn: Int, device: Device, generator: Generator?) throws -> Tensor {
    let w = try Tensor.empty(shape, device: device)
    if device != .meta {
      let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
      try w.uniform_(-bound, bound, generator: generator)
    }
    return w
  }

  static func bias(_ count: Int, fanIn: Int, device: Device, generator: Generator?) throws -> Tensor {
    try weight([count], fanIn: fanIn, device: device, generator: generator)
  }
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
