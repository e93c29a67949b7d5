import FMBoost
import NN
import Torch

/// LDM's `SpatialTransformer` (keys `norm`, `proj_in`, `transformer_blocks.N`, `proj_out`):
/// GroupNorm(32, eps 1e-6), a 1×1 conv in (or a linear layer with `useLinear`, as SD2 has), the
/// transformer blocks over the H·W positions with cross-attention to the text context, the
/// projection out, plus the input.
public final class SpatialTransformer: Module, ContextLayer {
  let norm: GroupNorm
  let projIn: any Layer
  let blocks: ModuleList<BasicTransformerBlock>
  let projOut: any Layer
  let useLinear: Bool

  public init(_ p: ModuleScope, channels: Int, heads: Int, headDim: Int, depth: Int, contextDim: Int, useLinear: Bool = false) throws {
    let inner = heads * headDim
    self.useLinear = useLinear
    norm = try GroupNorm(p["norm"], groups: 32, channels: channels, eps: 1e-6)
    projIn = useLinear ? try Linear(p["proj_in"], channels, inner) : try Conv2d(p["proj_in"], channels, inner, kernelSize: 1)
    let blockScope = p["transformer_blocks"]
    blocks = ModuleList(blockScope, try (0..<depth).map {
      try BasicTransformerBlock(blockScope[$0], dim: inner, heads: heads, headDim: headDim, contextDim: contextDim)
    })
    projOut = useLinear ? try Linear(p["proj_out"], inner, channels) : try Conv2d(p["proj_out"], inner, channels, kernelSize: 1)
    super.init(p)
  }

  /// x (B, C, H, W), context (B, T, contextDim).
  public func callAsFunction(_ x: Tensor, context: Tensor) throws -> Tensor {
    let (b, h, w) = (x.size(0), x.size(2), x.size(3))
    func tokens(_ t: Tensor) throws -> Tensor { try t.reshape([b, t.size(1), h * w]).transpose(1, 2) }
    func image(_ t: Tensor) throws -> Tensor { try t.transpose(1, 2).reshape([b, t.size(2), h, w]) }
    var hidden = try norm(x)
    hidden = useLinear ? try projIn(tokens(hidden)) : try tokens(projIn(hidden))
    for block in blocks.items { hidden = try block(hidden, context: context) }
    hidden = useLinear ? try image(projOut(hidden)) : try projOut(image(hidden))
    return try hidden.addOverwriting(x)
  }
}

/// x + attn1(norm1(x)); x + attn2(norm2(x), context); x + ff(norm3(x)) — LayerNorms with eps 1e-5.
final class BasicTransformerBlock: Module {
  let norm1: LayerNorm, norm2: LayerNorm, norm3: LayerNorm
  let attn1: CrossAttention, attn2: CrossAttention
  let geglu: Linear, ffOut: Linear

  init(_ p: ModuleScope, dim: Int, heads: Int, headDim: Int, contextDim: Int) throws {
    attn1 = try CrossAttention(p["attn1"], queryDim: dim, contextDim: dim, heads: heads, headDim: headDim)
    // The feed-forward's keys: ff.net.0.proj (GEGLU, 2·4·dim outputs) and ff.net.2.
    geglu = try Linear(p["ff.net.0.proj"], dim, 2 * 4 * dim)
    ffOut = try Linear(p["ff.net.2"], 4 * dim, dim)
    attn2 = try CrossAttention(p["attn2"], queryDim: dim, contextDim: contextDim, heads: heads, headDim: headDim)
    norm1 = try LayerNorm(p["norm1"], [dim])
    norm2 = try LayerNorm(p["norm2"], [dim])
    norm3 = try LayerNorm(p["norm3"], [dim])
    super.init(p)
  }

  func callAsFunction(_ x: Tensor, context: Tensor) throws -> Tensor {
    var h = try attn1(norm1(x), context: nil).addOverwriting(x)
    h = try attn2(norm2(h), context: context).addOverwriting(h)
    // GEGLU: value · gelu(gate), both halves of the projection's fresh output overwritten.
    let parts = try geglu(norm3(h)).chunk(2, dim: -1)
    return try ffOut(parts[0].mulOverwriting(parts[1].geluOverwriting())).addOverwriting(h)
  }
}

/// LDM's `CrossAttention` (`to_q`, `to_k`, `to_v` without bias, `to_out.0`): self-attention when
/// `context` is nil, softmax(q·kᵀ/√d)·v per head.
final class CrossAttention: Module {
  let toQ: Linear, toK: Linear, toV: Linear, toOut: Linear
  let heads: Int

  init(_ p: ModuleScope, queryDim: Int, contextDim: Int, heads: Int, headDim: Int) throws {
    self.heads = heads
    let inner = heads * headDim
    toQ = try Linear(p["to_q"], queryDim, inner, bias: false)
    toK = try Linear(p["to_k"], contextDim, inner, bias: false)
    toV = try Linear(p["to_v"], contextDim, inner, bias: false)
    toOut = try Linear(p["to_out.0"], inner, queryDim)
    super.init(p)
  }

  func callAsFunction(_ x: Tensor, context: Tensor?) throws -> Tensor {
    let source = context ?? x
    let (b, n) = (x.size(0), x.size(1))
    func split(_ t: Tensor) throws -> Tensor { try t.reshape([b, t.size(1), heads, -1]).transpose(1, 2) }
    let out = try Tensor.scaledDotProductAttention(query: split(toQ(x)), key: split(toK(source)), value: split(toV(source)))
    return try toOut(out.transpose(1, 2).reshape([b, n, -1]))
  }
}
