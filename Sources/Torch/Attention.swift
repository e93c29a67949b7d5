import CTorch

extension Tensor {
  /// Scaled dot-product attention softmax(q·kᵀ·scale)·v over the last two dimensions.
  ///
  /// Without autograd (float32/64 on the CPU) it runs `ct_attention_blocked` (shim_attention.cpp):
  /// blocks of queries whose scores fit in a core's cache (at most 2^20 values), each block's three
  /// steps on one thread, the blocks spread over the threads. With autograd, a large problem is
  /// computed one batch entry and one block of queries at a time, each block's score matrix at most
  /// `maxScoreElements` values (16 MB), by differentiable matrix products. Measured on libtorch 1.13,
  /// 2 cores: SD1.5's 4096-token self-attention (16 heads·batch entries, d 40) 1.53 s batched in
  /// 64 MB chunks → 0.56 s in 16 MB blocks (Intel VM); on an AMD VM, one thread, 1.22–1.44 s in
  /// 16 MB blocks → 1.10–1.44 s blocked per thread (1 and 8 MB blocks; two threads within noise).
  ///
  /// - Parameters:
  ///   - query: (..., Lq, d); key: (..., Lk, d); value: (..., Lk, dv).
  ///   - scale: defaults to 1/√d.
  /// - Returns: (..., Lq, dv).
  public static func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, scale: Double? = nil, maxScoreElements: Int = 1 << 22
  ) throws -> Tensor {
    let qShape = query.shape
    guard qShape.count >= 2, key.rank == qShape.count, value.rank == qShape.count else {
      throw TorchError.invalidArgument("attention expects q, k, v of equal rank ≥ 2, got \(qShape), \(key.shape), \(value.shape)")
    }
    let queries = qShape[qShape.count - 2]
    let keys = key.size(-2)
    let batch = qShape.dropLast(2).reduce(1, *)
    let s = scale ?? 1 / Double(qShape[qShape.count - 1]).squareRoot()
    // Scaling the (small) queries, not the scores, saves a score-sized temporary.
    func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
      try (q * s).matmul(k.transpose(-2, -1)).softmax(dim: -1).matmul(v)
    }
    let outputShape = Array(qShape.dropLast()) + [value.size(-1)]
    func flat() throws -> (Tensor, Tensor, Tensor) {
      (try query.reshape([batch, queries, -1]), try key.reshape([batch, keys, -1]), try value.reshape([batch, keys, -1]))
    }
    let recordsGradient = isGradEnabled && (query.requiresGrad || key.requiresGrad || value.requiresGrad)
    if !recordsGradient, query.dtype == .float32 || query.dtype == .float64, query.device == .cpu {
      let (q, k, v) = try flat()
      let out = try withExtendedLifetime((q, k, v)) { try produce { ct_attention_blocked(q.handle, k.handle, v.handle, s, $0) } }
      return try out.reshape(outputShape)
    }
    if batch * queries * keys <= maxScoreElements { return try attend(query, key, value) }
    let (q, k, v) = try flat()
    let rowsPerBlock = Swift.max(1, maxScoreElements / Swift.max(1, keys))
    var blocks: [Tensor] = []
    blocks.reserveCapacity(batch * ((queries + rowsPerBlock - 1) / rowsPerBlock))
    for n in 0..<batch {
      let (qn, kn, vn) = (try q.select(dim: 0, index: n), try k.select(dim: 0, index: n), try v.select(dim: 0, index: n))
      for start in stride(from: 0, to: queries, by: rowsPerBlock) {
        blocks.append(try attend(qn.narrow(dim: 0, start: start, length: Swift.min(rowsPerBlock, queries - start)), kn, vn))
      }
    }
    return try Tensor.cat(blocks, dim: 0).reshape(outputShape)
  }
}
