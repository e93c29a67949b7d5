import Torch

/// 2-D convolution — `nn.Conv2d` (weight (out, in/groups, kH, kW)).
public final class Conv2d: Module, Layer {
  public let weight: Parameter
  public let bias: Parameter?
  public let stride: (Int, Int)
  public let padding: (Int, Int)
  public let groups: Int

  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    groups: Int = 1, bias: Bool = true, device: Device = .cpu, generator: Generator? = nil
  ) throws {
    let fanIn = inChannels / groups * kernelSize * kernelSize
    weight = try Parameter(DefaultInit.weight(
      [outChannels, inChannels / groups, kernelSize, kernelSize], fanIn: fanIn, device: device, generator: generator))
    self.bias = bias ? try Parameter(DefaultInit.bias(outChannels, fanIn: fanIn, device: device, generator: generator)) : nil
    self.stride = (stride, stride)
    self.padding = (padding, padding)
    self.groups = groups
    super.init()
    register("weight", weight)
    if let b = self.bias { register("bias", b) }
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
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    groups: Int = 1, bias: Bool = true, device: Device = .cpu, generator: Generator? = nil
  ) throws {
    let fanIn = inChannels / groups * kernelSize
    weight = try Parameter(DefaultInit.weight(
      [outChannels, inChannels / groups, kernelSize], fanIn: fanIn, device: device, generator: generator))
    self.bias = bias ? try Parameter(DefaultInit.bias(outChannels, fanIn: fanIn, device: device, generator: generator)) : nil
    self.stride = stride
    self.padding = padding
    self.groups = groups
    super.init()
    register("weight", weight)
    if let b = self.bias { register("bias", b) }
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

  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    bias: Bool = true, device: Device = .cpu, generator: Generator? = nil
  ) throws {
    let fanIn = outChannels * kernelSize * kernelSize  // PyTorch computes fan-in from dim 1
    weight = try Parameter(DefaultInit.weight(
      [inChannels, outChannels, kernelSize, kernelSize], fanIn: fanIn, device: device, generator: generator))
    self.bias = bias ? try Parameter(DefaultInit.bias(outChannels, fanIn: fanIn, device: device, generator: generator)) : nil
    self.stride = (stride, stride)
    self.padding = (padding, padding)
    super.init()
    register("weight", weight)
    if let b = self.bias { register("bias", b) }
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try x.convTranspose2d(weight.value, bias: bias?.value, stride: stride, padding: padding)
  }
}
