import NN
import Torch

/// The UNet's attention block (keys `norm`, `qkv`, `proj_out`), exactly as the original computes it:
/// the (B, 3·heads·d, L) projection is reshaped *without a transpose* to (B, heads, L, 3·d) and split
/// into q, k, v along the last axis, so a "token" is 3·d consecutive memory elements rather than a
/// spatial position, as the original reshapes. Checkpoints only give the reference's numbers this way.
public final class SpatialSelfAttention: Module, Layer {
  let norm: GroupNorm
  let qkv: Conv1d
  let projOut: Conv1d
  let heads: Int
  let dimHead: Int
  let linear: Bool

  public init(_ p: ModuleScope, channels: Int, heads: Int, dimHead: Int, linear: Bool) throws {
    self.heads = heads
    self.dimHead = dimHead
    self.linear = linear
    let inner = heads * dimHead
    norm = try GroupNorm(p["norm"], groups: 32, channels: channels, eps: 1e-5)
    qkv = try Conv1d(p["qkv"], channels, 3 * inner, kernelSize: 1)
    projOut = try Conv1d(p["proj_out"], inner, channels, kernelSize: 1)
    try p.zeroInitialise(projOut)
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
    let length = h * w
    let flat = try x.reshape([b, c, length])
    let y = try qkv(norm(flat)).contiguous().view([b, heads, length, 3 * dimHead])
    let q = try y.narrow(dim: 3, start: 0, length: dimHead)
    let k = try y.narrow(dim: 3, start: dimHead, length: dimHead)
    let v = try y.narrow(dim: 3, start: 2 * dimHead, length: dimHead)
    let o = linear ? try linearAttention(q, k, v) : try Tensor.scaledDotProductAttention(query: q, key: k, value: v)
    let out = try projOut(o.contiguous().view([b, heads * dimHead, length]))
    return try out.addOverwriting(flat).reshape([b, c, h, w])
  }

  /// LinearQKVAttention: q softmaxed over features and scaled, k softmaxed over tokens,
  /// out = q·(kᵀ·v).
  private func linearAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
    let scale = 1 / Double(dimHead).squareRoot()
    let qs = try q.softmax(dim: -1) * scale
    let ks = try k.softmax(dim: -2)
    let context = try ks.transpose(-2, -1).matmul(v)
    return try qs.matmul(context)
  }
}
