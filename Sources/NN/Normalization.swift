import Torch

/// `nn.GroupNorm(groups, channels, eps, affine=True)`: weight initialised to 1, bias to 0.
public final class GroupNorm: Module, Layer {
  public let groups: Int
  public let eps: Double
  public let weight: Parameter
  public let bias: Parameter

  public init(_ p: ModuleScope, groups: Int, channels: Int, eps: Double = 1e-5) throws {
    guard groups > 0, channels % groups == 0 else {
      throw TorchError.invalidArgument("GroupNorm: \(channels) channels do not split into \(groups) groups")
    }
    self.groups = groups
    self.eps = eps
    weight = try p.parameter("weight", shape: [channels], initial: .ones)
    bias = try p.parameter("bias", shape: [channels], initial: .zeros)
    super.init(p)
  }

  /// A fresh layer on its own.
  public convenience init(groups: Int, channels: Int, eps: Double = 1e-5, device: Device = .cpu) throws {
    try self.init(ParameterSource.fresh(device: device).root, groups: groups, channels: channels, eps: eps)
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

  public init(_ p: ModuleScope, _ normalizedShape: [Int], eps: Double = 1e-5) throws {
    self.normalizedShape = normalizedShape
    self.eps = eps
    weight = try p.parameter("weight", shape: normalizedShape, initial: .ones)
    bias = try p.parameter("bias", shape: normalizedShape, initial: .zeros)
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let input = x.dtype == weight.value.dtype ? x : try x.to(weight.value.dtype)
    return try input.layerNorm(normalizedShape, weight: weight.value, bias: bias.value, eps: eps)
  }
}
