import Testing
import TestSupport
import Torch

@Suite struct FunctionalTests {
  @Test func chunkedAttentionEqualsOneShot() throws {
    let g = try Generator(seed: 3)
    let q = try Tensor.randn([2, 3, 50, 16], generator: g)
    let k = try Tensor.randn([2, 3, 40, 16], generator: g)
    let v = try Tensor.randn([2, 3, 40, 8], generator: g)
    let explicit = try (q.matmul(k.transpose(-2, -1)) * 0.25).softmax(dim: -1).matmul(v)
    // Without autograd: the fused kernel (shim_attention_fused.cpp).
    let blocked = try Tensor.scaledDotProductAttention(query: q, key: k, value: v)
    #expect(blocked.shape == [2, 3, 50, 8])
    #expect(try blocked.maxAbsDifference(explicit) < 1e-6)
    // With autograd: differentiable products, 700 score elements per block: the 6 batch entries one
    // at a time, in blocks of 17, 17 and 16 query rows (17 · 40 keys ≤ 700).
    let qg = try q.detach().requiresGrad(true)
    let chunked = try Tensor.scaledDotProductAttention(query: qg, key: k, value: v, maxScoreElements: 700)
    #expect(chunked.requiresGrad)
    #expect(try chunked.maxAbsDifference(explicit) < 1e-6)
  }

  /// The fused float32 kernel (shim_attention_fused.cpp) against the formula in float64, for head
  /// sizes of one to several vectors, query counts that leave a partial register tile (6 rows) and a
  /// partial task (72 rows), key counts that leave a partial panel (16) and a partial softmax step
  /// (192), and, at scale 4, scores spread over ±60 so the running maximum changes between steps.
  @Test(arguments: [
    (batch: 3, queries: 7, keys: 5, d: 8, dv: 8, scale: 0.35),
    (batch: 2, queries: 150, keys: 77, d: 40, dv: 40, scale: 1 / 40.0.squareRoot()),
    (batch: 1, queries: 73, keys: 1000, d: 16, dv: 24, scale: 4.0),
    (batch: 2, queries: 1, keys: 193, d: 80, dv: 80, scale: 0.1),
    (batch: 1, queries: 200, keys: 400, d: 64, dv: 8, scale: 0.125),
  ])
  func fusedAttentionMatchesTheFormula(batch: Int, queries: Int, keys: Int, d: Int, dv: Int, scale: Double) throws {
    let g = try Generator(seed: UInt64(queries * 1000 + keys))
    let q = try Tensor.randn([batch, queries, d], generator: g), k = try Tensor.randn([batch, keys, d], generator: g)
    let v = try Tensor.randn([batch, keys, dv], generator: g)
    let fused = try withNoGrad { try Tensor.scaledDotProductAttention(query: q, key: k, value: v, scale: scale) }
    let (q64, k64, v64) = (try q.to(.float64), try k.to(.float64), try v.to(.float64))
    let explicit = try (q64.matmul(k64.transpose(-2, -1)) * scale).softmax(dim: -1).matmul(v64)
    // float32 scores carry a rounding error of about |score|·1e-7, which e^score turns into a
    // relative error: the bound is libtorch's own float32 formula's distance to float64, and 1e-6.
    let float32 = try (q.matmul(k.transpose(-2, -1)) * scale).softmax(dim: -1).matmul(v).to(.float64)
    let bound = try max(2 * float32.maxAbsDifference(explicit), 1e-6)
    #expect(fused.shape == [batch, queries, dv])
    #expect(fused.dtype == .float32)
    let error = try fused.to(.float64).maxAbsDifference(explicit)
    print("fused attention \(batch)x\(queries)x\(keys) d \(d) dv \(dv): max error \(error), float32 formula's \(try float32.maxAbsDifference(explicit))")
    #expect(error < bound)
  }

  /// Where the fused kernel does not apply (float64; a head size that is no multiple of 8), the
  /// BLAS blocks give the same result.
  @Test func attentionOutsideTheFusedKernel() throws {
    let g = try Generator(seed: 11)
    let q = try Tensor.randn([2, 30, 12], generator: g), k = try Tensor.randn([2, 50, 12], generator: g)
    let v = try Tensor.randn([2, 50, 16], generator: g)
    let (q64, k64, v64) = (try q.to(.float64), try k.to(.float64), try v.to(.float64))
    let explicit = try (q64.matmul(k64.transpose(-2, -1)) * 0.3).softmax(dim: -1).matmul(v64)
    let odd = try withNoGrad { try Tensor.scaledDotProductAttention(query: q, key: k, value: v, scale: 0.3) }
    #expect(try odd.to(.float64).maxAbsDifference(explicit) < 2e-6)
    let double = try withNoGrad { try Tensor.scaledDotProductAttention(query: q64, key: k64, value: v64, scale: 0.3) }
    #expect(double.dtype == .float64)
    #expect(try double.maxAbsDifference(explicit) < 1e-12)
  }

  /// Several blocks of queries per batch entry, the last one partial (1000 = 512 + 488 rows for
  /// 2048 keys), each written to its own rows (the BLAS path: a value size of 5).
  @Test func blockedAttentionCoversEveryQueryRow() throws {
    let g = try Generator(seed: 5)
    let q = try Tensor.randn([3, 1000, 8], generator: g), k = try Tensor.randn([3, 2048, 8], generator: g)
    let v = try Tensor.randn([3, 2048, 5], generator: g)
    let blocked = try withNoGrad { try Tensor.scaledDotProductAttention(query: q, key: k, value: v, scale: 0.3) }
    let explicit = try (q.matmul(k.transpose(-2, -1)) * 0.3).softmax(dim: -1).matmul(v)
    #expect(blocked.shape == [3, 1000, 5])
    #expect(try blocked.maxAbsDifference(explicit) < 1e-5)
  }

  @Test func longAttentionStaysWithinItsChunkBudget() throws {
    // One head, 16,384 tokens: a one-shot score matrix would take 1 GiB (16,384² float32, and
    // more again for its scaled and softmaxed copies); chunks of 2^22 scores take 16 MiB each.
    // The memory is freed before the call returns, so the check is on the peak (VmHWM) during it.
    let tokens = 16_384
    let unchunkedScoreBytes = tokens * tokens * 4
    let q = try Tensor.randn([1, 1, tokens, 4], generator: Generator(seed: 0))
    // Warm-up outside the measurement: BLAS and thread-pool buffers are allocated on first use.
    let small = try q.narrow(dim: -2, start: 0, length: 512)
    _ = try withNoGrad { try Tensor.scaledDotProductAttention(query: small, key: small, value: small, maxScoreElements: 1 << 16) }

    // The measurement itself sees a transient allocation (one a later RSS reading would miss).
    // Blocks cached by the allocator from earlier tests would serve it from pages already counted.
    Runtime.releaseFreedMemory()
    try resetPeakResidentMemory()
    let controlBase = try residentMemory()
    do {
      let block = try Tensor.ones([16 << 20])  // 64 MiB, every page written
      #expect(block.elementCount == 16 << 20)
    }
    let controlGrowth = try peakResidentMemory() - controlBase
    #expect(controlGrowth >= 48 << 20, "a 64 MiB temporary raised the peak by only \(controlGrowth >> 20) MiB")

    Runtime.releaseFreedMemory()
    try resetPeakResidentMemory()
    let before = try residentMemory()
    let out = try withNoGrad {
      try Tensor.scaledDotProductAttention(query: q, key: q, value: q, maxScoreElements: 1 << 22)
    }
    let growth = try peakResidentMemory() - before
    print("chunked attention: \(tokens) tokens, peak RSS growth \(growth >> 20) MiB (one-shot scores: \(unchunkedScoreBytes >> 20) MiB)")
    #expect(out.shape == [1, 1, tokens, 4])
    // A quarter of one unchunked score matrix: the chunks (16 MiB of scores, a few copies of them)
    // and the 256 KiB output stay far below it; a one-shot product alone would exceed it 4 times.
    #expect(growth < unchunkedScoreBytes / 4, "peak grew \(growth >> 20) MiB")
  }

  @Test func bilinearHalvingIsABoxAverage() throws {
    // PyTorch's bilinear rule with align_corners false: an exact 2x reduction averages 2x2 blocks.
    let x = try Tensor.arange(0, 16).reshape([1, 1, 4, 4])
    let y = try x.interpolate(size: (2, 2), mode: .bilinear)
    #expect(try y.toArray(Float.self) == [2.5, 4.5, 10.5, 12.5])
    let up = try Tensor([0, 1] as [Float], shape: [1, 1, 1, 2]).interpolate(size: (1, 4), mode: .bilinear)
    // src = (dst + 0.5)/2 − 0.5, clamped at 0: [0, 0.25, 0.75, 1]
    #expect(try up.toArray(Float.self) == [0, 0.25, 0.75, 1])
    let nearest = try Tensor([1, 2] as [Float], shape: [1, 1, 1, 2]).interpolate(scaleFactor: 2, mode: .nearest)
    #expect(try nearest.toArray(Float.self) == [1, 1, 2, 2, 1, 1, 2, 2])
    let area = try x.interpolate(size: (2, 2), mode: .area)
    #expect(try area.toArray(Float.self) == [2.5, 4.5, 10.5, 12.5])
    let bicubic = try x.interpolate(size: (8, 8), mode: .bicubic)
    #expect(bicubic.shape == [1, 1, 8, 8])
    let aa = try x.interpolate(size: (2, 2), mode: .bicubic, antialias: true)
    #expect(aa.shape == [1, 1, 2, 2])
  }

  @Test func convolutionAndNormalisationAgreeWithDefinitions() throws {
    // A 1x1 convolution is a matrix product over channels.
    let g = try Generator(seed: 5)
    let x = try Tensor.randn([2, 3, 4, 5], generator: g)
    let w = try Tensor.randn([6, 3, 1, 1], generator: g)
    let b = try Tensor.randn([6], generator: g)
    let conv = try x.conv2d(w, bias: b)
    let manual = try w.reshape([6, 3]).matmul(x.permute([1, 0, 2, 3]).reshape([3, -1])).reshape([6, 2, 4, 5])
      .permute([1, 0, 2, 3]) + b.reshape([1, 6, 1, 1])
    #expect(try conv.maxAbsDifference(manual) < 1e-5)
    #expect(try x.conv2d(Tensor.randn([4, 3, 3, 3], generator: g), stride: (2, 2), padding: (1, 1)).shape == [2, 4, 2, 3])
    #expect(try x.reshape([2, 3, 20]).conv1d(Tensor.randn([4, 3, 3], generator: g), padding: 1).shape == [2, 4, 20])
    // GroupNorm with one group per channel normalises each (n, c) plane.
    let gn = try x.groupNorm(groups: 3, weight: nil, bias: nil, eps: 0)
    #expect(abs(try gn.mean([2, 3]).abs().max().item()) < 1e-5)
    #expect(abs(try gn.variance([2, 3], correction: 0).max().item() - 1) < 1e-4)
    let ln = try x.layerNorm([5], weight: nil, bias: nil)
    #expect(abs(try ln.mean([3]).abs().max().item()) < 1e-5)
    let lin = try Tensor.ones([2, 3]).linear(Tensor.ones([4, 3]), bias: Tensor.full([4], 0.5))
    #expect(try lin.toArray(Float.self) == Array(repeating: 3.5, count: 8))
  }
}

