import CTorch

// Inference without the extra buffer: a network's fresh intermediates (a norm's output, a
// convolution's) are overwritten by the next element-wise step when no gradient is recorded, as
// PyTorch's `inplace=True` activations and `h += x` residuals do. At 1024 px every such buffer is
// 0.5-1 GB; not allocating it saves memory traffic and first-touch page faults. With autograd on
// they compute out of place, so backward keeps the values it needs.
//
// Call them only on a tensor nobody else holds (not a module's input, not a view of one).
extension Tensor {
  /// silu(self), written over self when no gradient is recorded.
  public func siluOverwriting() throws -> Tensor { try overwriting(CT_SILU) }

  /// relu(self), written over self when no gradient is recorded.
  public func reluOverwriting() throws -> Tensor { try overwriting(CT_RELU) }

  /// gelu(self) (the erf form), written over self when no gradient is recorded.
  public func geluOverwriting() throws -> Tensor { try overwriting(CT_GELU) }

  private func overwriting(_ op: Int) throws -> Tensor {
    guard !isGradEnabled else { return try unary(op, self) }
    try check(ct_unary_(Int32(op), handle))
    return self
  }

  /// self + other, written over self when no gradient is recorded and the sum has self's shape
  /// and dtype (no broadcasting of self, no type promotion).
  public func addOverwriting(_ other: Tensor) throws -> Tensor {
    guard canOverwrite(with: other) else { return try self + other }
    try add_(other)
    return self
  }

  /// self · other, written over self under the same conditions as `addOverwriting`.
  public func mulOverwriting(_ other: Tensor) throws -> Tensor {
    guard canOverwrite(with: other) else { return try self * other }
    try mul_(other)
    return self
  }

  private func canOverwrite(with other: Tensor) -> Bool {
    !isGradEnabled && other.dtype == dtype && other.rank <= rank
      && shape.suffix(other.rank).elementsEqual(other.shape, by: { $0 == $1 || $1 == 1 })
  }
}
