import Torch

/// y = x·Wᵀ + b, weight (out, in) — `nn.Linear`.
public final class Linear: Module, Layer {
  public let weight: Parameter
  public let bias: Parameter?

  public init(_ p: ModuleScope, _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
    weight = try p.parameter("weight", shape: [outFeatures, inFeatures], initial: .uniform(fanIn: inFeatures))
    self.bias = bias ? try p.parameter("bias", shape: [outFeatures], initial: .uniform(fanIn: inFeatures)) : nil
    super.init(p)
  }

  /// A freshly initialised layer on its own.
  public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, device: Device = .cpu, generator: Generator? = nil) throws {
    try self.init(ParameterSource.fresh(device: device, generator: generator).root, inFeatures, outFeatures, bias: bias)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try x.linear(weight.value, bias: bias?.value)
  }
}
