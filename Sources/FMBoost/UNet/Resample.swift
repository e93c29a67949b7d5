import NN
import Torch

/// ×½ resolution: a stride-2, padding-1 3×3 convolution (key `op`), or 2×2 average pooling.
public final class Downsample: Module, Layer {
  let op: Conv2d?

  public init(channels: Int, useConv: Bool, device: Device = .cpu, generator: Generator? = nil) throws {
    op = useConv ? try Conv2d(channels, channels, kernelSize: 3, stride: 2, padding: 1, device: device, generator: generator) : nil
    super.init()
    if let op { register("op", op) }
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    if let op { return try op(x) }
    return try x.avgPool2d(kernel: (2, 2))
  }
}

/// ×2 resolution: nearest-neighbour interpolation, then a 3×3 convolution (key `conv`).
public final class Upsample: Module, Layer {
  let conv: Conv2d?

  public init(channels: Int, useConv: Bool, device: Device = .cpu, generator: Generator? = nil) throws {
    conv = useConv ? try Conv2d(channels, channels, kernelSize: 3, padding: 1, device: device, generator: generator) : nil
    super.init()
    if let conv { register("conv", conv) }
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let up = try x.interpolate(scaleFactor: 2, mode: .nearest)
    return try conv?(up) ?? up
  }
}

/// A sequence in which residual blocks also receive the time embedding (`TimestepEmbedSequential`).
public final class TimestepEmbedSequential: Module {
  private var layers: [Module] = []

  public init(_ layers: [Module]) {
    super.init()
    for layer in layers {
      register(String(self.layers.count), layer)
      self.layers.append(layer)
    }
  }

  public func callAsFunction(_ x: Tensor, _ embedding: Tensor) throws -> Tensor {
    var h = x
    for layer in layers {
      if let block = layer as? ResBlock {
        h = try block(h, embedding)
      } else if let plain = layer as? any Layer {
        h = try plain(h)
      }
    }
    return h
  }
}
