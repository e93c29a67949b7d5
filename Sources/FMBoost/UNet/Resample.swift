import NN
import Torch

/// ×½ resolution: a stride-2, padding-1 3×3 convolution (key `op`), or 2×2 average pooling.
public final class Downsample: Module, Layer {
  let op: Conv2d?

  public init(_ p: ModuleScope, channels: Int, useConv: Bool) throws {
    op = useConv ? try Conv2d(p["op"], channels, channels, kernelSize: 3, stride: 2, padding: 1) : nil
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    if let op { return try op(x) }
    return try x.avgPool2d(kernel: (2, 2))
  }
}

/// ×2 resolution: nearest-neighbour interpolation, then a 3×3 convolution (key `conv`).
public final class Upsample: Module, Layer {
  let conv: Conv2d?

  public init(_ p: ModuleScope, channels: Int, useConv: Bool) throws {
    conv = useConv ? try Conv2d(p["conv"], channels, channels, kernelSize: 3, padding: 1) : nil
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    if let conv { return try conv.afterNearestTwice(x) }
    return try x.interpolate(scaleFactor: 2, mode: .nearest)
  }
}

/// A sequence in which residual blocks also receive the time embedding (`TimestepEmbedSequential`).
/// Its layers are built in `p`, each under its index.
public final class TimestepEmbedSequential: Module {
  private let layers: [Module]

  public init(_ p: ModuleScope, _ layers: [Module]) {
    self.layers = layers
    super.init(p)
  }

  /// `context`: the text context of the SD UNet's transformers (nil for FMBoost's networks).
  public func callAsFunction(_ x: Tensor, _ embedding: Tensor, context: Tensor? = nil) throws -> Tensor {
    var h = x
    for layer in layers {
      if let block = layer as? ResBlock {
        h = try block(h, embedding)
      } else if let transformer = layer as? ContextLayer {
        guard let context else { throw TorchError.invalidArgument("a transformer block needs the text context") }
        h = try transformer(h, context: context)
      } else if let plain = layer as? any Layer {
        h = try plain(h)
      }
    }
    return h
  }
}
