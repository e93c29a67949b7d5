import NN
import Torch

/// FMBoost's flow network: v = net(cat(x_t, context), t) with the unscaled sinusoidal time
/// embedding. Parameter paths equal the PyTorch keys (`time_embed.0.weight`,
/// `input_blocks.1.0.in_layers.0.weight`, ..., `out.2.bias`).
public final class EfficientUNet: Module {
  public let config: EfficientUNetConfig
  let timeEmbed: Sequential
  let pool: Wrapped<Conv2d>?
  let blocks: UNetSkeleton
  let out: Sequential
  let unPool: Wrapped<ConvTranspose2d>?

  /// Builds the network from `p`: fresh, with PyTorch's default initialisation and the original's
  /// zero-initialised output layers (a fresh network outputs exactly zero), or from weights.
  public init(_ config: EfficientUNetConfig, _ p: ModuleScope) throws {
    self.config = config
    let c = config
    guard !c.channelMult.isEmpty, c.modelChannels > 0, c.numHeads > 0, c.dimHead > 0 else {
      throw TorchError.invalidArgument("EfficientUNet: channel_mult must not be empty and sizes must be positive")
    }
    let embeddingChannels = 4 * c.modelChannels
    let embedScope = p["time_embed"]
    timeEmbed = Sequential(embedScope, [
      try Linear(embedScope[0], c.modelChannels, embeddingChannels), SiLU(),
      try Linear(embedScope[2], embeddingChannels, embeddingChannels),
    ])
    func resBlock(_ p: ModuleScope, _ channels: Int, _ outChannels: Int) throws -> ResBlock {
      try ResBlock(p, channels: channels, embeddingChannels: embeddingChannels, dropout: c.dropout, outChannels: outChannels,
                   useScaleShiftNorm: c.useScaleShiftNorm, useGroupNorm: c.useGroupNorm)
    }
    func attention(_ p: ModuleScope, _ channels: Int, linear: Bool) throws -> SpatialSelfAttention {
      try SpatialSelfAttention(p, channels: channels, heads: c.numHeads, dimHead: c.dimHead, linear: linear)
    }

    // The original's stem and output conv are model_channels wide whatever channel_mult[0] is.
    let inputChannels = c.modelChannels
    if c.usesPooling {
      let poolScope = p["pool"]
      pool = Wrapped(poolScope, try Conv2d(poolScope["down_conv"], c.inChannels, c.modelChannels, kernelSize: c.poolFactor, stride: c.poolFactor))
    } else {
      pool = nil
    }
    blocks = try UNetSkeleton(
      p, stem: { try Conv2d($0, c.usesPooling ? c.modelChannels : c.inChannels, inputChannels, kernelSize: 3, padding: 1) },
      modelChannels: c.modelChannels, channelMult: c.channelMult, numResBlocks: c.numResBlocks, convResample: c.convResample,
      resBlock: resBlock, attention: { p, ch, ds in c.attentionResolutions.contains(ds) ? try attention(p, ch, linear: c.useLinearAttn) : nil },
      middle: { p, ch in
        c.middleAttention ? [try resBlock(p[0], ch, ch), try attention(p[1], ch, linear: false), try resBlock(p[2], ch, ch)]
          : [try resBlock(p[0], ch, ch), try resBlock(p[1], ch, ch)]
      })
    let ch = blocks.outChannels

    // With pooling the output GroupNorm uses `ch` and the conv model_channels, as the original builds it.
    let outScope = p["out"]
    let outNorm: any Layer = c.useGroupNorm ? try GroupNorm(outScope[0], groups: 32, channels: ch, eps: 1e-5) : Identity()
    let outConv = try Conv2d(outScope[2], inputChannels, c.usesPooling ? c.modelChannels : c.outChannels, kernelSize: 3, padding: 1)
    if !c.usesPooling { try p.zeroInitialise(outConv) }
    out = Sequential(outScope, [outNorm, SiLU(overwritesInput: c.useGroupNorm), outConv])
    if c.usesPooling {
      let unPoolScope = p["un_pool"]
      unPool = Wrapped(unPoolScope, try ConvTranspose2d(unPoolScope["up_conv"], c.modelChannels, c.outChannels, kernelSize: c.poolFactor, stride: c.poolFactor))
    } else {
      unPool = nil
    }
    super.init(p)
  }

  /// A freshly initialised network (`generator` draws the initial weights).
  public convenience init(_ config: EfficientUNetConfig, device: Device = .cpu, generator: Generator? = nil) throws {
    try self.init(config, ParameterSource.fresh(device: device, generator: generator).root)
  }

  /// v = net(cat(x, context), t). `x` (B, C, H, W); `t` (B) or one element for the whole batch;
  /// `context` concatenated after x on channels (nil when the network takes x alone).
  public func callAsFunction(_ x: Tensor, t: Tensor, context: Tensor?) throws -> Tensor {
    let batch = x.size(0)
    let times = t.elementCount == 1 ? try t.reshape([1]).expand([batch]) : t
    let embedding = try timeEmbed(timestepEmbedding(times, dim: config.modelChannels).to(x.dtype))
    var h = try context.map { try Tensor.cat([x, $0], dim: 1) } ?? x
    guard h.size(1) == config.inChannels else {
      throw TorchError.invalidArgument("EfficientUNet expects \(config.inChannels) input channels (x and context together), got \(h.size(1))")
    }
    if let pool { h = try pool(h) }
    h = try blocks(h, embedding)
    h = try out(h)
    return try unPool?(h) ?? h
  }
}

/// A layer kept under a child name of its own, as the original's `Pool2d` (`pool.down_conv`) and
/// `UnPool2d` (`un_pool.up_conv`) wrap their convolutions.
final class Wrapped<Inner: Layer>: Module, Layer {
  let inner: Inner

  init(_ p: ModuleScope, _ inner: Inner) {
    self.inner = inner
    super.init(p)
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor { try inner(x) }
}
