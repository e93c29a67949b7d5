import CTorch

// In-place updates for optimisers, EMA and weight loading. Call them inside `withNoGrad` when the
// tensor is a leaf that requires grad, as PyTorch requires.
extension Tensor {
  /// self += alpha · other
  public func add_(_ other: Tensor, alpha: Double = 1) throws {
    try withExtendedLifetime(other) { try check(ct_inplace_binary(Int32(CT_ADD), handle, other.handle, alpha)) }
  }

  public func sub_(_ other: Tensor) throws {
    try withExtendedLifetime(other) { try check(ct_inplace_binary(Int32(CT_SUB), handle, other.handle, 1)) }
  }

  public func mul_(_ other: Tensor) throws {
    try withExtendedLifetime(other) { try check(ct_inplace_binary(Int32(CT_MUL), handle, other.handle, 1)) }
  }

  public func div_(_ other: Tensor) throws {
    try withExtendedLifetime(other) { try check(ct_inplace_binary(Int32(CT_DIV), handle, other.handle, 1)) }
  }

  public func maximum_(_ other: Tensor) throws {
    try withExtendedLifetime(other) { try check(ct_inplace_binary(Int32(CT_MAXIMUM), handle, other.handle, 1)) }
  }

  public func add_(_ s: Double) throws { try check(ct_inplace_scalar(Int32(CT_ADD), handle, s)) }
  public func mul_(_ s: Double) throws { try check(ct_inplace_scalar(Int32(CT_MUL), handle, s)) }
  public func div_(_ s: Double) throws { try check(ct_inplace_scalar(Int32(CT_DIV), handle, s)) }
  public func sqrt_() throws { try check(ct_unary_(Int32(CT_SQRT), handle)) }
  public func fill_(_ value: Double) throws { try check(ct_fill_(handle, value)) }
  public func zero_() throws { try fill_(0) }

  /// Copies `source` into this tensor (broadcasting, converting dtype).
  public func copy_(_ source: Tensor) throws {
    try withExtendedLifetime(source) { try check(ct_copy_(handle, source.handle)) }
  }

  /// self += value · t1 · t2
  public func addcmul_(_ t1: Tensor, _ t2: Tensor, value: Double = 1) throws {
    try withExtendedLifetime((t1, t2)) { try check(ct_addc_(handle, 0, t1.handle, t2.handle, value)) }
  }

  /// self += value · t1 / t2
  public func addcdiv_(_ t1: Tensor, _ t2: Tensor, value: Double = 1) throws {
    try withExtendedLifetime((t1, t2)) { try check(ct_addc_(handle, 1, t1.handle, t2.handle, value)) }
  }

  /// self += weight · (end − self)
  public func lerp_(_ end: Tensor, weight: Double) throws {
    try withExtendedLifetime(end) { try check(ct_lerp_(handle, end.handle, weight)) }
  }

  public func clamp_(min: Double? = nil, max: Double? = nil) throws {
    var lo = min ?? 0, hi = max ?? 0
    try withUnsafePointer(to: &lo) { lp in
      try withUnsafePointer(to: &hi) { hp in
        try check(ct_clamp_(handle, min == nil ? nil : lp, max == nil ? nil : hp))
      }
    }
  }
}
