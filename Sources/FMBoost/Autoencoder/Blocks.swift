import NN
import Torch

/// The autoencoder's normalisation: GroupNorm(32, C) with eps 1e-6.
func normalize(_ channels: Int, device: Device) throws -> GroupNorm {
  try GroupNorm(groups: 32, channels: channels, eps: 1e-6, device: device)
}

/// norm1 → SiLU → conv1 → norm2 → SiLU → dropout → conv2, plus x (through a 1×1 `nin_shortcut`
/// when the width changes).
public final class ResnetBlock: Module, Layer {
  let norm1: GroupNorm, conv1: Conv2d, norm2: GroupNorm, dropout: Dropout, conv2: Conv2d
  let ninShortcut: Conv2d?

  init(_ inChannels: Int, _ outChannels: Int, dropout p: Double, device: Device, generator: Generator?) throws {
    norm1 = try normalize(inChannels, device: device)
    conv1 = try Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, device: device, generator: generator)
    norm2 = try normalize(outChannels, device: device)
    dropout = Dropout(p)
    conv2 = try Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, device: device, generator: generator)
    ninShortcut = inChannels == outChannels ? nil : try Conv2d(inChannels, outChannels, kernelSize: 1, device: device, generator: generator)
    super.init()
    register("norm1", norm1)
    register("conv1", conv1)
    register("norm2", norm2)
    register("conv2", conv2)
    if let ninShortcut { register("nin_shortcut", ninShortcut) }
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    var h = try conv1(norm1(x).silu())
    h = try conv2(dropout(norm2(h).silu()))
    return try (ninShortcut?(x) ?? x) + h
  }
}

/// Single-head self-attention over the H·W positions (`q`, `k`, `v`, `proj_out` are 1×1 convs),
/// scale 1/√C, computed in query chunks so 65,536 positions (a 2048 px image) fit in memory.
public final class AttnBlock: Module, Layer {
  let norm: GroupNorm, q: Conv2d, k: Conv2d, v: Conv2d, projOut: Conv2d

  init(_ channels: Int, device: Device, generator: Generator?) throws {
    norm = try normalize(channels, device: device)
    q = try Conv2d(channels, channels, kernelSize: 1, device: device, generator: generator)
    k = try Conv2d(channels, channels, kernelSize: 1, device: device, generator: generator)
    v = try Conv2d(channels, channels, kernelSize: 1, device: device, generator: generator)
    projOut = try Conv2d(channels, channels, kernelSize: 1, device: device, generator: generator)
    super.init()
    register("norm", norm)
    register("q", q)
    register("k", k)
    register("v", v)
    register("proj_out", projOut)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
    let normed = try norm(x)
    // b c h w -> b 1 (h w) c
    func tokens(_ t: Tensor) throws -> Tensor { try t.reshape([b, 1, c, h * w]).transpose(2, 3) }
    let out = try Tensor.scaledDotProductAttention(query: tokens(q(normed)), key: tokens(k(normed)), value: tokens(v(normed)))
    return try x + projOut(out.transpose(2, 3).reshape([b, c, h, w]))
  }
}

/// ×½: zero-pad right and bottom by one, then a stride-2 3×3 convolution without padding (key `conv`).
public final class AsymmetricDownsample: Module, Layer {
  let conv: Conv2d

  init(_ channels: Int, device: Device, generator: Generator?) throws {
    conv = try Conv2d(channels, channels, kernelSize: 3, stride: 2, padding: 0, device: device, generator: generator)
    super.init()
    register("conv", conv)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try conv(x.pad([0, 1, 0, 1])) }
}

/// One resolution level: `block.N`, `attn.N` and an optional `downsample`/`upsample`.
final class AutoencoderLevel: Module {
  let blocks: ModuleList<ResnetBlock>
  let attentions: ModuleList<AttnBlock>
  let resample: (any Layer)?

  init(blocks: [ResnetBlock], attentions: [AttnBlock], resample: (name: String, layer: any Layer)?) {
    self.blocks = ModuleList(blocks)
    self.attentions = ModuleList(attentions)
    self.resample = resample?.layer
    super.init()
    register("block", self.blocks)
    register("attn", self.attentions)
    if let resample { register(resample.name, resample.layer) }
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor {
    var h = x
    for (i, block) in blocks.items.enumerated() {
      h = try block(h)
      if i < attentions.count { h = try attentions[i](h) }
    }
    return try resample?(h) ?? h
  }
}

/// `mid`: block_1, attn_1, block_2.
final class AutoencoderMiddle: Module, Layer {
  let block1: ResnetBlock, attention: AttnBlock, block2: ResnetBlock

  init(_ channels: Int, dropout: Double, device: Device, generator: Generator?) throws {
    block1 = try ResnetBlock(channels, channels, dropout: dropout, device: device, generator: generator)
    attention = try AttnBlock(channels, device: device, generator: generator)
    block2 = try ResnetBlock(channels, channels, dropout: dropout, device: device, generator: generator)
    super.init()
    register("block_1", block1)
    register("attn_1", attention)
    register("block_2", block2)
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor { try block2(attention(block1(x))) }
}
