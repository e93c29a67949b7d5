import FMBoost
import NN
import Torch

/// The SD UNet's shape, with LDM's `UNetModel` names (SD1.5 by default).
public struct SDUNetConfig: Codable, Equatable, Sendable {
  public var inChannels = 4
  public var modelChannels = 320
  public var outChannels = 4
  public var numResBlocks = 2
  public var attentionResolutions = [4, 2, 1]
  public var channelMult = [1, 2, 4, 4]
  public var numHeads = 8
  public var contextDim = 768
  public var transformerDepth = 1
  public var useLinearInTransformer = false
  /// The width of LCM's guidance embedding (diffusers' `time_cond_proj_dim`); nil: no such input.
  public var timeCondProjDim: Int?

  public init() {}

  public static let sd15 = SDUNetConfig()
}

/// LDM's `UNetModel` as SD1.5 has it (keys `time_embed`, `input_blocks`, `middle_block`,
/// `output_blocks`, `out`): EfficientUNet's residual blocks and resampling with a
/// `SpatialTransformer` wherever the resolution is in `attention_resolutions`; the time embedding
/// of t ∈ [0, 1000) unscaled, [cos, sin]; heads of `channels / num_heads` dimensions.
public final class SDUNet: Module {
  public let config: SDUNetConfig
  let timeEmbed: Sequential
  /// LCM's `time_embedding.cond_proj` (no bias): the guidance embedding, added to the time embedding's input.
  let timeCondProj: Linear?
  let blocks: UNetSkeleton
  let out: Sequential

  public init(_ c: SDUNetConfig, _ p: ModuleScope) throws {
    guard !c.channelMult.isEmpty, c.numHeads > 0 else { throw TorchError.invalidArgument("SD UNet: channel_mult must not be empty, num_heads positive") }
    config = c
    let embeddingChannels = 4 * c.modelChannels
    let embed = p["time_embed"]
    timeEmbed = Sequential(embed, [
      try Linear(embed[0], c.modelChannels, embeddingChannels), SiLU(), try Linear(embed[2], embeddingChannels, embeddingChannels),
    ])
    timeCondProj = try c.timeCondProjDim.map { try Linear(p["time_cond_proj"], $0, c.modelChannels, bias: false) }
    func resBlock(_ p: ModuleScope, _ channels: Int, _ outChannels: Int) throws -> ResBlock {
      try ResBlock(p, channels: channels, embeddingChannels: embeddingChannels, dropout: 0, outChannels: outChannels, useScaleShiftNorm: false)
    }
    func transformer(_ p: ModuleScope, _ channels: Int) throws -> SpatialTransformer {
      try SpatialTransformer(p, channels: channels, heads: c.numHeads, headDim: channels / c.numHeads, depth: c.transformerDepth,
                             contextDim: c.contextDim, useLinear: c.useLinearInTransformer)
    }

    blocks = try UNetSkeleton(
      p, stem: { try Conv2d($0, c.inChannels, c.modelChannels, kernelSize: 3, padding: 1) },
      modelChannels: c.modelChannels, channelMult: c.channelMult, numResBlocks: c.numResBlocks, convResample: true,
      resBlock: resBlock, attention: { p, ch, ds in c.attentionResolutions.contains(ds) ? try transformer(p, ch) : nil },
      middle: { p, ch in [try resBlock(p[0], ch, ch), try transformer(p[1], ch), try resBlock(p[2], ch, ch)] })
    let ch = blocks.outChannels
    let outScope = p["out"]
    out = Sequential(outScope, [
      try GroupNorm(outScope[0], groups: 32, channels: ch, eps: 1e-5), SiLU(overwritesInput: true), try Conv2d(outScope[2], ch, c.outChannels, kernelSize: 3, padding: 1),
    ])
    super.init(p)
  }

  /// ε = UNet(x, t, context): x (B, 4, h, w), t (B) or one value, context (B, 77, context_dim);
  /// `timestepCond` (B or 1, time_cond_proj_dim) the guidance embedding of an LCM-distilled UNet.
  /// `observe` sees the time embedding (`emb`) and every block's output under its LDM module path,
  /// as PyTorch forward hooks would (parity checks).
  public func callAsFunction(_ x: Tensor, t: Tensor, context: Tensor, timestepCond: Tensor? = nil,
                             observe: ((String, Tensor) throws -> Void)? = nil) throws -> Tensor {
    let times = t.elementCount == 1 ? try t.reshape([1]).expand([x.size(0)]) : t
    var input = try timestepEmbedding(times, dim: config.modelChannels)
    switch (timeCondProj, timestepCond) {
    case let (projection?, cond?): input = try input + projection(cond)
    case (nil, .some): throw TorchError.invalidArgument("this SD UNet has no guidance embedding (time_cond_proj_dim); it is not LCM-distilled")
    case (.some, nil): throw TorchError.invalidArgument("this LCM-distilled SD UNet needs the guidance embedding (timestep_cond)")
    case (nil, nil): break
    }
    let embedding = try timeEmbed(input)
    try observe?("emb", embedding)
    let h = try blocks(x, embedding, context: context, observe: observe)
    return try out(h)
  }
}
