/// The `ddconfig` of the SD first stage (LDM's AutoencoderKL) plus `embed_dim`. Decodes from the
/// original keys (`ch`, `ch_mult`, `num_res_blocks`, `attn_resolutions`, `z_channels`, ...).
public struct AutoencoderKLConfig: Codable, Equatable, Sendable {
  public var ch: Int = 128
  public var chMult: [Int] = [1, 2, 4, 4]
  public var numResBlocks: Int = 2
  public var attnResolutions: [Int] = []
  public var dropout: Double = 0
  public var inChannels: Int = 3
  public var outCh: Int = 3
  public var resolution: Int = 256
  public var zChannels: Int = 4
  public var doubleZ: Bool = true
  public var embedDim: Int = 4

  public init() {}

  /// Stable Diffusion's autoencoder (`sd_ae.ckpt`): 83,653,863 parameters.
  public static var stableDiffusion: AutoencoderKLConfig { AutoencoderKLConfig() }

  /// Spatial downsampling factor (8 for SD).
  public var downsamplingFactor: Int { 1 << (chMult.count - 1) }

  enum CodingKeys: String, CodingKey {
    case ch, chMult = "ch_mult", numResBlocks = "num_res_blocks", attnResolutions = "attn_resolutions"
    case dropout, inChannels = "in_channels", outCh = "out_ch", resolution, zChannels = "z_channels"
    case doubleZ = "double_z", embedDim = "embed_dim"
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = AutoencoderKLConfig()
    ch = try c.decodeIfPresent(Int.self, forKey: .ch) ?? d.ch
    chMult = try c.decodeIfPresent([Int].self, forKey: .chMult) ?? d.chMult
    numResBlocks = try c.decodeIfPresent(Int.self, forKey: .numResBlocks) ?? d.numResBlocks
    attnResolutions = try c.decodeIfPresent([Int].self, forKey: .attnResolutions) ?? d.attnResolutions
    dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? d.dropout
    inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
    outCh = try c.decodeIfPresent(Int.self, forKey: .outCh) ?? d.outCh
    resolution = try c.decodeIfPresent(Int.self, forKey: .resolution) ?? d.resolution
    zChannels = try c.decodeIfPresent(Int.self, forKey: .zChannels) ?? d.zChannels
    doubleZ = try c.decodeIfPresent(Bool.self, forKey: .doubleZ) ?? d.doubleZ
    embedDim = try c.decodeIfPresent(Int.self, forKey: .embedDim) ?? zChannels
  }
}
