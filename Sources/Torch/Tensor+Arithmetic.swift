import CTorch

// Broadcasting element-wise arithmetic. Operators throw: a shape mismatch is libtorch's error,
// caught and rethrown, never a crash. One `try` covers a whole expression.

@inline(__always)
func binary(_ op: Int, _ a: Tensor, _ b: Tensor) throws -> Tensor {
  try withExtendedLifetime((a, b)) { try produce { ct_binary(Int32(op), a.handle, b.handle, $0) } }
}

@inline(__always)
func binary(_ op: Int, _ a: Tensor, _ s: Double, reversed: Bool = false) throws -> Tensor {
  try withExtendedLifetime(a) { try produce { ct_binary_scalar(Int32(op), a.handle, s, reversed, $0) } }
}

@inline(__always)
func unary(_ op: Int, _ a: Tensor) throws -> Tensor {
  try withExtendedLifetime(a) { try produce { ct_unary(Int32(op), a.handle, $0) } }
}

extension Tensor {
  public static func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(CT_ADD, a, b) }
  public static func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(CT_SUB, a, b) }
  public static func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(CT_MUL, a, b) }
  public static func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(CT_DIV, a, b) }

  public static func + (a: Tensor, s: Double) throws -> Tensor { try binary(CT_ADD, a, s) }
  public static func - (a: Tensor, s: Double) throws -> Tensor { try binary(CT_SUB, a, s) }
  public static func * (a: Tensor, s: Double) throws -> Tensor { try binary(CT_MUL, a, s) }
  public static func / (a: Tensor, s: Double) throws -> Tensor { try binary(CT_DIV, a, s) }

  public static func + (s: Double, a: Tensor) throws -> Tensor { try binary(CT_ADD, a, s) }
  public static func - (s: Double, a: Tensor) throws -> Tensor { try binary(CT_SUB, a, s, reversed: true) }
  public static func * (s: Double, a: Tensor) throws -> Tensor { try binary(CT_MUL, a, s) }
  public static func / (s: Double, a: Tensor) throws -> Tensor { try binary(CT_DIV, a, s, reversed: true) }

  public static prefix func - (a: Tensor) throws -> Tensor { try unary(CT_NEG, a) }

  public func pow(_ exponent: Double) throws -> Tensor { try binary(CT_POW, self, exponent) }
  public func pow(_ exponent: Tensor) throws -> Tensor { try binary(CT_POW, self, exponent) }
  public func maximum(_ other: Tensor) throws -> Tensor { try binary(CT_MAXIMUM, self, other) }
  public func minimum(_ other: Tensor) throws -> Tensor { try binary(CT_MINIMUM, self, other) }
  public func remainder(_ s: Double) throws -> Tensor { try binary(CT_REMAINDER, self, s) }

  /// Matrix product with NumPy broadcasting rules (`torch.matmul`).
  public func matmul(_ other: Tensor) throws -> Tensor { try binary(CT_MATMUL, self, other) }
  /// Batched matrix product of (B, n, m) and (B, m, p).
  public func bmm(_ other: Tensor) throws -> Tensor { try binary(CT_BMM, self, other) }

  // Comparisons give bool tensors.
  public func eq(_ other: Tensor) throws -> Tensor { try binary(CT_EQ, self, other) }
  public func ne(_ other: Tensor) throws -> Tensor { try binary(CT_NE, self, other) }
  public func lt(_ other: Tensor) throws -> Tensor { try binary(CT_LT, self, other) }
  public func le(_ other: Tensor) throws -> Tensor { try binary(CT_LE, self, other) }
  public func gt(_ other: Tensor) throws -> Tensor { try binary(CT_GT, self, other) }
  public func ge(_ other: Tensor) throws -> Tensor { try binary(CT_GE, self, other) }
  public func eq(_ s: Double) throws -> Tensor { try binary(CT_EQ, self, s) }
  public func lt(_ s: Double) throws -> Tensor { try binary(CT_LT, self, s) }
  public func gt(_ s: Double) throws -> Tensor { try binary(CT_GT, self, s) }
  public func logicalAnd(_ other: Tensor) throws -> Tensor { try binary(CT_LOGICAL_AND, self, other) }
  public func logicalOr(_ other: Tensor) throws -> Tensor { try binary(CT_LOGICAL_OR, self, other) }
  public func logicalNot() throws -> Tensor { try unary(CT_LOGICAL_NOT, self) }

  public func exp() throws -> Tensor { try unary(CT_EXP, self) }
  public func log() throws -> Tensor { try unary(CT_LOG, self) }
  public func log10() throws -> Tensor { try unary(CT_LOG10, self) }
  public func sqrt() throws -> Tensor { try unary(CT_SQRT, self) }
  public func rsqrt() throws -> Tensor { try unary(CT_RSQRT, self) }
  public func sin() throws -> Tensor { try unary(CT_SIN, self) }
  public func cos() throws -> Tensor { try unary(CT_COS, self) }
  public func tanh() throws -> Tensor { try unary(CT_TANH, self) }
  public func abs() throws -> Tensor { try unary(CT_ABS, self) }
  public func square() throws -> Tensor { try unary(CT_SQUARE, self) }
  public func floor() throws -> Tensor { try unary(CT_FLOOR, self) }
  public func ceil() throws -> Tensor { try unary(CT_CEIL, self) }
  public func round() throws -> Tensor { try unary(CT_ROUND, self) }
  public func sign() throws -> Tensor { try unary(CT_SIGN, self) }
  public func reciprocal() throws -> Tensor { try unary(CT_RECIPROCAL, self) }
  public func erf() throws -> Tensor { try unary(CT_ERF, self) }
  public func isNaN() throws -> Tensor { try unary(CT_ISNAN, self) }
  public func isFinite() throws -> Tensor { try unary(CT_ISFINITE, self) }

  public func relu() throws -> Tensor { try unary(CT_RELU, self) }
  public func silu() throws -> Tensor { try unary(CT_SILU, self) }
  public func sigmoid() throws -> Tensor { try unary(CT_SIGMOID, self) }
  /// GELU, exact (erf) or with the tanh approximation.
  public func gelu(approximateTanh: Bool = false) throws -> Tensor {
    try unary(approximateTanh ? CT_GELU_TANH : CT_GELU, self)
  }

  /// Clamps into [min, max]; either bound may be omitted.
  public func clamp(min: Double? = nil, max: Double? = nil) throws -> Tensor {
    var lo = min ?? 0, hi = max ?? 0
    return try produce { out in
      withUnsafePointer(to: &lo) { lp in
        withUnsafePointer(to: &hi) { hp in
          ct_clamp(handle, min == nil ? nil : lp, max == nil ? nil : hp, out)
        }
      }
    }
  }

  /// Linear interpolation self + weight·(end − self).
  public func lerp(_ end: Tensor, weight: Double) throws -> Tensor {
    try withExtendedLifetime(end) { try produce { ct_lerp(handle, end.handle, weight, $0) } }
  }

  /// Elements of `a` where `condition` is true, else of `b`.
  public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    try withExtendedLifetime((condition, a, b)) {
      try produce { ct_where(condition.handle, a.handle, b.handle, $0) }
    }
  }
}
