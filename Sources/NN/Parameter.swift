import Torch

/// A named tensor slot of a module: a trainable parameter or a persistent buffer.
///
/// Loading a state_dict replaces `value` (after checking the shape), so modules hold the slot, not
/// the tensor, and never copy weights twice.
public final class Parameter {
  public var value: Tensor
  /// Buffers (running statistics, step counters) are saved but never trained.
  public let isBuffer: Bool

  public init(_ value: Tensor, isBuffer: Bool = false) throws {
    self.value = value
    self.isBuffer = isBuffer
    if !isBuffer && value.dtype.isFloatingPoint && value.device != .meta { try value.requiresGrad(true) }
  }
}
