import Torch

/// `nn.GroupNorm(groups, channels, eps, affine=True)`: weight initialised to 1, bias to 0.
public final class GroupNorm: Module, Layer {
  public let groups: Int
  public let eps: Double
  public let weight: Parameter
  public let bias: Parameter

  public init(groups: Int, channels: Int, eps: Double = 1e-5, device: Device = .cpu) throws {
    guard groups > 0, channels % groups == 0 else {
      throw TorchError.invalidArgument("GroupNorm: \(channels) channels do not split into \(groups) groups")
    }
    self.groups = groups
    self.eps = eps
    weight = try Parameter(Tensor.ones([channels], device: device))
    bias = try Parameter(Tensor.zeros([channels], device: device))
    super.init()
    register("weight", weight)
    register("bias", bias)
  }

  /// A lower-precision input (autocast's bfloat16) is normalised in the weights' float32, as
  /// autocast's fp32 policy does for normalisation layers.
  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let input = x.dtype == weight.value.dtype ? x : try x.to(weight.value.dtype)
    return try input.groupNorm(groups: groups, weight: weight.value, bias: bias.value, eps: eps)
  }
}

/// `nn.LayerNorm(shape, eps)` over the trailing dimensions.
public final class LayerNorm: Module, Layer {
  public let normalizedShape: [Int]
  public let eps: Double
  public let weight: Parameter
  public let bias: Parameter

  public init(_ normalizedShape: [Int], eps: Double = 1e-5, device: Device = .cpu) throws {
    self.normalizedShape = normalizedShape
    self.eps = eps
    weight = try Parameter(Tensor.ones(normalizedShape, device: device))
    bias = try Parameter(Tensor.zeros(normalizedShape, device: device))
    super.init()
    register("weight", weight)
    register("bias", bias)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let input = x.dtype == weight.value.dtype ? x : try x.to(weight.value.dtype)
    return try input.layerNorm(normalizedShape, weight: weight.value, bias: bias.value, eps: eps)
  }
}
