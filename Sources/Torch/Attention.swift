extension Tensor {
  /// Scaled dot-product attention softmax(q·kᵀ·scale)·v over the last two dimensions, computed in
  /// chunks of queries so that the score matrix never holds more than `maxScoreElements` values.
  ///
  /// - Parameters:
  ///   - query: (..., Lq, d); key: (..., Lk, d); value: (..., Lk, dv).
  ///   - scale: defaults to 1/√d.
  /// - Returns: (..., Lq, dv).
  public static func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, scale: Double? = nil, maxScoreElements: Int = 1 << 24
  ) throws -> Tensor {
    let qShape = query.shape
    guard qShape.count >= 2, key.rank == qShape.count, value.rank == qShape.count else {
      throw TorchError.invalidArgument("attention expects q, k, v of equal rank ≥ 2, got \(qShape), \(key.shape), \(value.shape)")
    }
    let queries = qShape[qShape.count - 2]
    let keys = key.size(-2)
    let batch = qShape.dropLast(2).reduce(1, *)
    let s = scale ?? 1 / Double(qShape[qShape.count - 1]).squareRoot()
    let keyT = try key.transpose(-2, -1)
    let rowsPerChunk = Swift.max(1, maxScoreElements / Swift.max(1, batch * keys))
    if rowsPerChunk >= queries {
      return try (query * s).matmul(keyT).softmax(dim: -1).matmul(value)
    }
    var outputs: [Tensor] = []
    outputs.reserveCapacity((queries + rowsPerChunk - 1) / rowsPerChunk)
    for start in stride(from: 0, to: queries, by: rowsPerChunk) {
      let q = try query.narrow(dim: -2, start: start, length: Swift.min(rowsPerChunk, queries - start))
      // Scaling the (small) queries, not the scores, saves a score-sized temporary.
      outputs.append(try (q * s).matmul(keyT).softmax(dim: -1).matmul(value))
    }
    return try Tensor.cat(outputs, dim: -2)
  }
}
