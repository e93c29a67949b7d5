import Torch

/// y = x·Wᵀ + b, weight (out, in) — `nn.Linear`.
public final class Linear: Module, Layer {
  public let weight: Parameter
  public let bias: Parameter?

  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, device: Device = .cpu, generator: Generator? = nil) throws {
    weight = try Parameter(DefaultInit.weight([outFeatures, inFeatures], fanIn: inFeatures, device: device, generator: generator))
    self.bias = bias ? try Parameter(DefaultInit.bias(outFeatures, fanIn: inFeatures, device: device, generator: generator)) : nil
    super.init()
    register("weight", weight)
    if let b = self.bias { register("bias", b) }
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try x.linear(weight.value, bias: bias?.value)
  }
}
