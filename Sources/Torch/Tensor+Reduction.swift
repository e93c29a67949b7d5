import CTorch

extension Tensor {
  private func reduce(_ op: Int, _ dims: [Int], keepDim: Bool, correction: Int = 0) throws -> Tensor {
    let d = dims.map(Int64.init)
    return try produce { ct_reduce(Int32(op), handle, d, Int32(d.count), keepDim, Int64(correction), $0) }
  }

  /// Sum over `dims` (all dimensions when empty).
  public func sum(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_SUM, dims, keepDim: keepDim) }
  public func sum(dim: Int, keepDim: Bool = false) throws -> Tensor { try sum([dim], keepDim: keepDim) }
  public func mean(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_MEAN, dims, keepDim: keepDim) }
  public func mean(dim: Int, keepDim: Bool = false) throws -> Tensor { try mean([dim], keepDim: keepDim) }
  /// Maximum values over `dims` (all when empty).
  public func max(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_AMAX, dims, keepDim: keepDim) }
  public func max(dim: Int, keepDim: Bool = false) throws -> Tensor { try max([dim], keepDim: keepDim) }
  public func min(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_AMIN, dims, keepDim: keepDim) }
  public func min(dim: Int, keepDim: Bool = false) throws -> Tensor { try min([dim], keepDim: keepDim) }
  /// Variance with `correction` (1 = unbiased, as `torch.var`'s default).
  public func variance(_ dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_VAR, dims, keepDim: keepDim, correction: correction)
  }
  public func std(_ dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_STD, dims, keepDim: keepDim, correction: correction)
  }
  public func prod(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_PROD, dim.map { [$0] } ?? [], keepDim: keepDim)
  }
  /// Index of the maximum along `dim` (over the flattened tensor when nil).
  public func argmax(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_ARGMAX, dim.map { [$0] } ?? [], keepDim: keepDim)
  }
  public func argmin(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_ARGMIN, dim.map { [$0] } ?? [], keepDim: keepDim)
  }
  public func all(dim: Int? = nil) throws -> Tensor { try reduce(CT_ALL, dim.map { [$0] } ?? [], keepDim: false) }
  public func any(dim: Int? = nil) throws -> Tensor { try reduce(CT_ANY, dim.map { [$0] } ?? [], keepDim: false) }
  public func logSumExp(dim: Int, keepDim: Bool = false) throws -> Tensor { try reduce(CT_LOGSUMEXP, [dim], keepDim: keepDim) }

  /// The p-norm of all elements.
  public func norm(p: Double = 2) throws -> Tensor { try produce { ct_norm(handle, p, $0) } }

  /// True when shapes and every element are equal.
  public func equal(_ other: Tensor) throws -> Bool {
    var result = false
    try withExtendedLifetime(other) { try check(ct_equal(handle, other.handle, &result)) }
    return result
  }

  public func allClose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) throws -> Bool {
    var result = false
    try withExtendedLifetime(other) { try check(ct_allclose(handle, other.handle, rtol, atol, &result)) }
    return result
  }

  /// max |self − other| as a Double (the parity measure of the tests).
  public func maxAbsDifference(_ other: Tensor) throws -> Double {
    try (to(.float64) - other.to(.float64)).abs().max().item()
  }
}
