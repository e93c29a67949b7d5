import NN
import Torch

/// The autoencoder's normalisation: GroupNorm(32, C) with eps 1e-6.
func normalize(_ p: ModuleScope, _ channels: Int) throws -> GroupNorm {
  try GroupNorm(p, groups: 32, channels: channels, eps: 1e-6)
}

/// norm1 → SiLU → conv1 → norm2 → SiLU → dropout → conv2, plus x (through a 1×1 `nin_shortcut`
/// when the width changes).
public final class ResnetBlock: Module, Layer {
  let norm1: GroupNorm, conv1: Conv2d, norm2: GroupNorm, dropout: Dropout, conv2: Conv2d
  let ninShortcut: Conv2d?

  init(_ p: ModuleScope, _ inChannels: Int, _ outChannels: Int, dropout: Double) throws {
    norm1 = try normalize(p["norm1"], inChannels)
    conv1 = try Conv2d(p["conv1"], inChannels, outChannels, kernelSize: 3, padding: 1)
    norm2 = try normalize(p["norm2"], outChannels)
    self.dropout = Dropout(dropout)
    conv2 = try Conv2d(p["conv2"], outChannels, outChannels, kernelSize: 3, padding: 1)
    ninShortcut = inChannels == outChannels ? nil : try Conv2d(p["nin_shortcut"], inChannels, outChannels, kernelSize: 1)
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try callAsFunction(consuming: x) }

  /// The block, free to write over x's memory when nothing else holds x (in inference): the
  /// shortcut's 1×1 convolution then replaces x in place, and conv2 adds its output to that. At the
  /// SD decoder's 1024 px level this holds x and conv1's output only (1.5 GiB), not two more of
  /// conv1's size.
  func callAsFunction(consuming x: consuming Tensor) throws -> Tensor {
    let h = try conv1.afterGroupNormSiLU(norm1, x)
    let residual: Tensor
    if let ninShortcut { residual = try ninShortcut.overwritingInput(consume x) } else { residual = consume x }
    if dropout.p > 0 && dropout.isTraining {
      return try conv2(dropout(norm2(consume h).siluOverwriting())).addOverwriting(residual)
    }
    return try conv2.afterGroupNormSiLU(norm2, consume h, adding: consume residual)
  }
}

/// Single-head self-attention over the H·W positions (`q`, `k`, `v`, `proj_out` are 1×1 convs),
/// scale 1/√C, computed in query chunks so 65,536 positions (a 2048 px image) fit in memory.
public final class AttnBlock: Module, Layer {
  let norm: GroupNorm, q: Conv2d, k: Conv2d, v: Conv2d, projOut: Conv2d

  init(_ p: ModuleScope, _ channels: Int) throws {
    norm = try normalize(p["norm"], channels)
    q = try Conv2d(p["q"], channels, channels, kernelSize: 1)
    k = try Conv2d(p["k"], channels, channels, kernelSize: 1)
    v = try Conv2d(p["v"], channels, channels, kernelSize: 1)
    projOut = try Conv2d(p["proj_out"], channels, channels, kernelSize: 1)
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
    let normed = try norm(x)
    // b c h w -> b 1 (h w) c
    func tokens(_ t: Tensor) throws -> Tensor { try t.reshape([b, 1, c, h * w]).transpose(2, 3) }
    let out = try Tensor.scaledDotProductAttention(query: tokens(q(normed)), key: tokens(k(normed)), value: tokens(v(normed)))
    return try projOut(out.transpose(2, 3).reshape([b, c, h, w])).addOverwriting(x)
  }
}

/// ×½: zero-pad right and bottom by one, then a stride-2 3×3 convolution without padding (key `conv`).
public final class AsymmetricDownsample: Module, Layer {
  let conv: Conv2d

  init(_ p: ModuleScope, _ channels: Int) throws {
    conv = try Conv2d(p["conv"], channels, channels, kernelSize: 3, stride: 2, padding: 0)
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try conv(x.pad([0, 1, 0, 1])) }
}

/// One resolution level: `block.N`, `attn.N` and an optional `downsample`/`upsample`.
final class AutoencoderLevel: Module {
  let blocks: ModuleList<ResnetBlock>
  let attentions: ModuleList<AttnBlock>
  let resample: (any Layer)?

  /// `blocks` resnet blocks from `inChannels` to `outChannels`, each followed by attention when
  /// `attention`; `resample` builds the level's `downsample`/`upsample` in the scope it is given.
  init(_ p: ModuleScope, blocks count: Int, _ inChannels: Int, _ outChannels: Int, dropout: Double, attention: Bool,
       resample: (name: String, build: (ModuleScope, Int) throws -> any Layer)?) throws {
    let blockScope = p["block"], attnScope = p["attn"]
    var blocks: [ResnetBlock] = [], attentions: [AttnBlock] = []
    for i in 0..<count {
      blocks.append(try ResnetBlock(blockScope[i], i == 0 ? inChannels : outChannels, outChannels, dropout: dropout))
      if attention { attentions.append(try AttnBlock(attnScope[i], outChannels)) }
    }
    self.blocks = ModuleList(blockScope, blocks)
    self.attentions = ModuleList(attnScope, attentions)
    self.resample = try resample.map { try $0.build(p[$0.name], outChannels) }
    super.init(p)
  }

  /// `consuming`: the level's input is freed after its first block, not held through the level.
  func callAsFunction(_ x: consuming Tensor) throws -> Tensor {
    var h = consume x
    for (i, block) in blocks.items.enumerated() {
      h = try block(consuming: consume h)
      if i < attentions.count { h = try attentions[i](h) }
    }
    return try resample?(h) ?? h
  }
}

/// `mid`: block_1, attn_1, block_2.
final class AutoencoderMiddle: Module, Layer {
  let block1: ResnetBlock, attention: AttnBlock, block2: ResnetBlock

  init(_ p: ModuleScope, _ channels: Int, dropout: Double) throws {
    block1 = try ResnetBlock(p["block_1"], channels, channels, dropout: dropout)
    attention = try AttnBlock(p["attn_1"], channels)
    block2 = try ResnetBlock(p["block_2"], channels, channels, dropout: dropout)
    super.init(p)
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor { try block2(consuming: attention(block1(x))) }
}
