import Torch

/// 2-D convolution — `nn.Conv2d` (weight (out, in/groups, kH, kW)).
public final class Conv2d: Module, Layer {
  public let weight: Parameter
  public let bias: Parameter?
  public let stride: (Int, Int)
  public let padding: (Int, Int)
  public let groups: Int

  public init(
    _ p: ModuleScope, _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    groups: Int = 1, bias: Bool = true
  ) throws {
    let fanIn = inChannels / groups * kernelSize * kernelSize
    weight = try p.parameter("weight", shape: [outChannels, inChannels / groups, kernelSize, kernelSize], initial: .uniform(fanIn: fanIn))
    self.bias = bias ? try p.parameter("bias", shape: [outChannels], initial: .uniform(fanIn: fanIn)) : nil
    self.stride = (stride, stride)
    self.padding = (padding, padding)
    self.groups = groups
    super.init(p)
  }

  /// A freshly initialised convolution on its own.
  public convenience init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    groups: Int = 1, bias: Bool = true, device: Device = .cpu, generator: Generator? = nil
  ) throws {
    try self.init(ParameterSource.fresh(device: device, generator: generator).root, inChannels, outChannels,
                  kernelSize: kernelSize, stride: stride, padding: padding, groups: groups, bias: bias)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try x.conv2d(weight.value, bias: bias?.value, stride: stride, padding: padding, groups: groups)
  }
}

/// 1-D convolution — `nn.Conv1d` (weight (out, in/groups, k)).
public final class Conv1d: Module, Layer {
  public let weight: Parameter
  public let bias: Parameter?
  public let stride: Int
  public let padding: Int
  public let groups: Int

  public init(
    _ p: ModuleScope, _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    groups: Int = 1, bias: Bool = true
  ) throws {
    let fanIn = inChannels / groups * kernelSize
    weight = try p.parameter("weight", shape: [outChannels, inChannels / groups, kernelSize], initial: .uniform(fanIn: fanIn))
    self.bias = bias ? try p.parameter("bias", shape: [outChannels], initial: .uniform(fanIn: fanIn)) : nil
    self.stride = stride
    self.padding = padding
    self.groups = groups
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try x.conv1d(weight.value, bias: bias?.value, stride: stride, padding: padding, groups: groups)
  }
}

/// Transposed 2-D convolution — `nn.ConvTranspose2d` (weight (in, out/groups, kH, kW)).
public final class ConvTranspose2d: Module, Layer {
  public let weight: Parameter
  public let bias: Parameter?
  public let stride: (Int, Int)
  public let padding: (Int, Int)

  public init(_ p: ModuleScope, _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) throws {
    let fanIn = outChannels * kernelSize * kernelSize  // PyTorch computes fan-in from dim 1
    weight = try p.parameter("weight", shape: [inChannels, outChannels, kernelSize, kernelSize], initial: .uniform(fanIn: fanIn))
    self.bias = bias ? try p.parameter("bias", shape: [outChannels], initial: .uniform(fanIn: fanIn)) : nil
    self.stride = (stride, stride)
    self.padding = (padding, padding)
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try x.convTranspose2d(weight.value, bias: bias?.value, stride: stride, padding: padding)
  }
}

extension Conv2d {
  /// Whether the shim's fused forms (stride 1, no groups, one padding on every side) compute this
  /// convolution of an `x` of the weights' dtype.
  private func takesFusedInput(_ x: Tensor) -> Bool {
    stride == (1, 1) && groups == 1 && padding.0 == padding.1 && x.dtype == weight.value.dtype
  }

  /// `self(norm(x).silu())`, plus `residual` when given, computed band by band without the
  /// normalised tensor where the shim can (`Tensor.groupNormSiLUConv2d`); the same numbers to float32
  /// rounding. The sum is written over `residual` where nothing else holds it, so a resnet block's
  /// output needs no memory of its own.
  public func afterGroupNormSiLU(_ norm: GroupNorm, _ x: Tensor, adding residual: consuming Tensor? = nil) throws -> Tensor {
    guard takesFusedInput(x), norm.weight.value.dtype == x.dtype else {
      let y = try self(norm(x).siluOverwriting())
      return try residual.map { try y.addOverwriting($0) } ?? y
    }
    return try x.groupNormSiLUConv2d(groups: norm.groups, normWeight: norm.weight.value, normBias: norm.bias.value, eps: norm.eps,
                                     weight.value, bias: bias?.value, padding: padding.0, adding: consume residual)
  }

  /// `self(x)` for a 1×1 convolution, written over `x`'s memory where nothing else holds `x` and the
  /// output is no wider (`Tensor.conv1x1Overwriting`); any other convolution runs as `self(x)`.
  public func overwritingInput(_ x: consuming Tensor) throws -> Tensor {
    let pointwise = weight.value.shape.suffix(2) == [1, 1] && stride == (1, 1) && padding == (0, 0) && groups == 1
    guard pointwise, x.dtype == weight.value.dtype else { return try self(x) }
    return try Tensor.conv1x1Overwriting(consume x, weight.value, bias: bias?.value)
  }

  /// `self(x.interpolate(scaleFactor: 2, mode: .nearest))`, computed band by band without the
  /// upsampled tensor where the shim can (`Tensor.nearestTwiceConv2d`).
  public func afterNearestTwice(_ x: Tensor) throws -> Tensor {
    guard takesFusedInput(x) else { return try self(x.interpolate(scaleFactor: 2, mode: .nearest)) }
    return try x.nearestTwiceConv2d(weight.value, bias: bias?.value, padding: padding.0)
  }
}
