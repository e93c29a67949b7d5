/// The constructor arguments of the original `EfficientUNet`, with its class defaults. Decodes
/// from the original's snake_case keys (`model_channels`, `channel_mult`, ...).
public struct EfficientUNetConfig: Codable, Equatable, Sendable {
  public var inChannels: Int = 8
  public var modelChannels: Int = 128
  public var outChannels: Int = 4
  /// Whether x_t comes with the upsampled latent as context (in_channels − out_channels of them).
  public var takesContext: Bool { inChannels > outChannels }
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

  var usesPooling: Bool { poolFactor > 1 }

  /// Latent sides must be multiples of this (one halving per level below the first, and the pool).
  public var requiredDivisor: Int { (1 << max(0, channelMult.count - 1)) * (usesPooling ? poolFactor : 1) }
}
