/// The constructor arguments of the original `EfficientUNet`, with its class defaults. Decodes
/// from the original's snake_case keys (`model_channels`, `channel_mult`, ...).
public struct EfficientUNetConfig: Codable, Equatable, Sendable {
  public var inChannels: Int = 8
  public var modelChannels: Int = 128
  public var outChannels: Int = 4
  public var numResBlocks: Int = 3
  public var channelMult: [Int] = [1, 2, 3, 4]
  /// Downsampling factors (1, 2, 4, ...) at which attention is used, not pixel sizes.
  public var attentionResolutions: [Int] = [8, 16]
  public var dropout: Double = 0
  public var convResample: Bool = true
  public var dimHead: Int = 64
  public var numHeads: Int = 4
  public var useLinearAttn: Bool = true
  public var useScaleShiftNorm: Bool = true
  /// -1 or ≤ 1: no pooling; 2, 4 or 8: patchify with a strided convolution.
  public var poolFactor: Int = -1
  /// This project's addition (the original always normalises): false replaces every GroupNorm of
  /// the residual blocks and the output head by the identity. GroupNorm's statistics span the
  /// whole image, so a network trained on crops sees other statistics on a whole photo.
  public var useGroupNorm: Bool = true
  /// This project's addition (the original always has it): false leaves the middle block's
  /// softmax attention out (`middle_block.0` and `.1` are then its two residual blocks).
  public var middleAttention: Bool = true

  public init() {}

  /// The paper's network (`configs/flow400_64-128/unet-base_psu.yaml`): 305,806,340 parameters.
  public static var base: EfficientUNetConfig {
    var c = EfficientUNetConfig()
    c.channelMult = [1, 2, 4, 8]
    c.useLinearAttn = false
    return c
  }

  enum CodingKeys: String, CodingKey {
    case inChannels = "in_channels", modelChannels = "model_channels", outChannels = "out_channels"
    case numResBlocks = "num_res_blocks", channelMult = "channel_mult"
    case attentionResolutions = "attention_resolutions", dropout, convResample = "conv_resample"
    case dimHead = "dim_head", numHeads = "num_heads", useLinearAttn = "use_linear_attn"
    case useScaleShiftNorm = "use_scale_shift_norm", poolFactor = "pool_factor"
    case useGroupNorm = "use_group_norm", middleAttention = "middle_attention"
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = EfficientUNetConfig()
    inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
    modelChannels = try c.decodeIfPresent(Int.self, forKey: .modelChannels) ?? d.modelChannels
    outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
    numResBlocks = try c.decodeIfPresent(Int.self, forKey: .numResBlocks) ?? d.numResBlocks
    channelMult = try c.decodeIfPresent([Int].self, forKey: .channelMult) ?? d.channelMult
    attentionResolutions = try c.decodeIfPresent([Int].self, forKey: .attentionResolutions) ?? d.attentionResolutions
    dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? d.dropout
    convResample = try c.decodeIfPresent(Bool.self, forKey: .convResample) ?? d.convResample
    dimHead = try c.decodeIfPresent(Int.self, forKey: .dimHead) ?? d.dimHead
    numHeads = try c.decodeIfPresent(Int.self, forKey: .numHeads) ?? d.numHeads
    useLinearAttn = try c.decodeIfPresent(Bool.self, forKey: .useLinearAttn) ?? d.useLinearAttn
    useScaleShiftNorm = try c.decodeIfPresent(Bool.self, forKey: .useScaleShiftNorm) ?? d.useScaleShiftNorm
    poolFactor = try c.decodeIfPresent(Int.self, forKey: .poolFactor) ?? d.poolFactor
    useGroupNorm = try c.decodeIfPresent(Bool.self, forKey: .useGroupNorm) ?? d.useGroupNorm
    middleAttention = try c.decodeIfPresent(Bool.self, forKey: .middleAttention) ?? d.middleAttention
  }

  var usesPooling: Bool { poolFactor > 1 }

  /// Latent sides must be multiples of this (one halving per level below the first, and the pool).
  public var requiredDivisor: Int { (1 << max(0, channelMult.count - 1)) * (usesPooling ? poolFactor : 1) }
}
