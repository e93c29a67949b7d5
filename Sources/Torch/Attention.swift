import CTorch

extension Tensor {
  /// Scaled dot-product attention softmax(q·kᵀ·scale)·v over the last two dimensions.
  ///
  /// Without autograd (float32/64 on the CPU) it runs `ct_attention_blocked` on every intra-op
  /// thread: float32 with head sizes that are multiples of 8 up to 256 on an AVX2 CPU goes through
  /// a fused kernel (shim_attention_fused.cpp: online softmax over blocks of 192 keys, no score
  /// matrix beyond 72 × 192), everything else through blocks of up to 256 queries whose scores stay
  /// in the last-level cache (shim_attention.cpp). With autograd, a large problem is computed one
  /// batch entry and one block of queries at a time, each block's score matrix at most
  /// `maxScoreElements` values (16 MB), by differentiable matrix products. Measured on a 2-core AMD
  /// VM, libtorch 1.13: SD1.5's 4096-token self-attention (16 heads·batch entries, d 40) 0.34–0.45 s
  /// fused, 0.55–0.60 s in BLAS blocks, PyTorch 2.13's `scaled_dot_product_attention` 0.38–0.55 s.
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
