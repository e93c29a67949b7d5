import NN
import Torch

/// FMBoost's flow network: v = net(cat(x_t, context), t) with the unscaled sinusoidal time
/// embedding. Parameter paths equal the PyTorch keys (`time_embed.0.weight`,
/// `input_blocks.1.0.in_layers.0.weight`, ..., `out.2.bias`).
public final class EfficientUNet: Module {
  public let config: EfficientUNetConfig
  let timeEmbed: Sequential
  let pool: Wrapped<Conv2d>?
  let inputBlocks: ModuleList<TimestepEmbedSequential>
  let middleBlock: TimestepEmbedSequential
  let outputBlocks: ModuleList<TimestepEmbedSequential>
  let out: Sequential
  let unPool: Wrapped<ConvTranspose2d>?

  /// Builds the network with PyTorch's default initialisation and the original's zero-initialised
  /// output layers, so a fresh network outputs exactly zero. On `.meta` nothing is allocated.
  public init(_ config: EfficientUNetConfig, device: Device = .cpu, generator: Generator? = nil) throws {
    self.config = config
    let c = config
    guard !c.channelMult.isEmpty, c.modelChannels > 0, c.numHeads > 0, c.dimHead > 0 else {
      throw TorchError.invalidArgument("EfficientUNet: channel_mult must not be empty and sizes must be positive")
    }
    let embeddingChannels = 4 * c.modelChannels
    timeEmbed = Sequential([
      try Linear(c.modelChannels, embeddingChannels, device: device, generator: generator), SiLU(),
      try Linear(embeddingChannels, embeddingChannels, device: device, generator: generator),
    ])
    func resBlock(_ channels: Int, _ outChannels: Int) throws -> ResBlock {
      try ResBlock(channels: channels, embeddingChannels: embeddingChannels, dropout: c.dropout, outChannels: outChannels,
                   useScaleShiftNorm: c.useScaleShiftNorm, useGroupNorm: c.useGroupNorm, device: device, generator: generator)
    }
    func attention(_ channels: Int, linear: Bool) throws -> SpatialSelfAttention {
      try SpatialSelfAttention(channels: channels, heads: c.numHeads, dimHead: c.dimHead, linear: linear, device: device, generator: generator)
    }

    // The original's stem and output conv are model_channels wide whatever channel_mult[0] is.
    let inputChannels = c.modelChannels
    if c.usesPooling {
      pool = Wrapped("down_conv", try Conv2d(c.inChannels, c.modelChannels, kernelSize: c.poolFactor, stride: c.poolFactor, device: device, generator: generator))
    } else {
      pool = nil
    }
    var ch = inputChannels
    var blocks = [TimestepEmbedSequential([
      try Conv2d(c.usesPooling ? c.modelChannels : c.inChannels, ch, kernelSize: 3, padding: 1, device: device, generator: generator),
    ])]
    var skipChannels = [ch]
    var ds = 1
    for (level, mult) in c.channelMult.enumerated() {
      for _ in 0..<c.numResBlocks {
        var layers: [Module] = [try resBlock(ch, mult * c.modelChannels)]
        ch = mult * c.modelChannels
        if c.attentionResolutions.contains(ds) { layers.append(try attention(ch, linear: c.useLinearAttn)) }
        blocks.append(TimestepEmbedSequential(layers))
        skipChannels.append(ch)
      }
      if level != c.channelMult.count - 1 {
        blocks.append(TimestepEmbedSequential([try Downsample(channels: ch, useConv: c.convResample, device: device, generator: generator)]))
        skipChannels.append(ch)
        ds *= 2
      }
    }
    inputBlocks = ModuleList(blocks)
    middleBlock = TimestepEmbedSequential(
      c.middleAttention
        ? [try resBlock(ch, ch), try attention(ch, linear: false), try resBlock(ch, ch)] : [try resBlock(ch, ch), try resBlock(ch, ch)])

    var upBlocks: [TimestepEmbedSequential] = []
    for (level, mult) in c.channelMult.enumerated().reversed() {
      for i in 0...c.numResBlocks {
        let skip = skipChannels.removeLast()
        var layers: [Module] = [try resBlock(ch + skip, c.modelChannels * mult)]
        ch = c.modelChannels * mult
        if c.attentionResolutions.contains(ds) { layers.append(try attention(ch, linear: c.useLinearAttn)) }
        if level > 0 && i == c.numResBlocks {
          layers.append(try Upsample(channels: ch, useConv: c.convResample, device: device, generator: generator))
          ds /= 2
        }
        upBlocks.append(TimestepEmbedSequential(layers))
      }
    }
    outputBlocks = ModuleList(upBlocks)

    // With pooling the output GroupNorm uses `ch` and the conv model_channels (spec 11.16).
    let outConv = try Conv2d(
      inputChannels, c.usesPooling ? c.modelChannels : c.outChannels, kernelSize: 3, padding: 1, device: device, generator: generator)
    if !c.usesPooling { try outConv.zeroInitialise() }
    let outNorm: any Layer = c.useGroupNorm ? try GroupNorm(groups: 32, channels: ch, eps: 1e-5, device: device) : Identity()
    out = Sequential([outNorm, SiLU(), outConv])
    unPool = c.usesPooling
      ? Wrapped("up_conv", try ConvTranspose2d(c.modelChannels, c.outChannels, kernelSize: c.poolFactor, stride: c.poolFactor, device: device, generator: generator))
      : nil

    super.init()
    register("time_embed", timeEmbed)
    if let pool { register("pool", pool) }
    register("input_blocks", inputBlocks)
    register("middle_block", middleBlock)
    register("output_blocks", outputBlocks)
    register("out", out)
    if let unPool { register("un_pool", unPool) }
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
    var skips: [Tensor] = []
    skips.reserveCapacity(inputBlocks.count)
    for block in inputBlocks.items {
      h = try block(h, embedding)
      skips.append(h)
    }
    h = try middleBlock(h, embedding)
    for block in outputBlocks.items {
      h = try block(Tensor.cat([h, skips.removeLast()], dim: 1), embedding)
    }
    h = try out(h)
    return try unPool?(h) ?? h
  }
}

/// A layer kept under a child name of its own, as the original's `Pool2d` (`pool.down_conv`) and
/// `UnPool2d` (`un_pool.up_conv`) wrap their convolutions.
final class Wrapped<Inner: Layer>: Module, Layer {
  let inner: Inner

  init(_ name: String, _ inner: Inner) {
    self.inner = inner
    super.init()
    register(name, inner)
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor { try inner(x) }
}
