import NN
import Torch

/// The SD encoder: conv_in, the `down` levels (ResnetBlocks, attention where the resolution is in
/// attn_resolutions, asymmetric downsampling), `mid`, norm_out → SiLU → conv_out (2·z channels).
final class VAEEncoder: Module, Layer {
  let convIn: Conv2d
  let levels: ModuleList<AutoencoderLevel>
  let mid: AutoencoderMiddle
  let normOut: GroupNorm
  let convOut: Conv2d

  init(_ p: ModuleScope, _ c: AutoencoderKLConfig) throws {
    convIn = try Conv2d(p["conv_in"], c.inChannels, c.ch, kernelSize: 3, padding: 1)
    var resolution = c.resolution
    var blockIn = c.ch
    let down = p["down"]
    var levels: [AutoencoderLevel] = []
    for (level, mult) in c.chMult.enumerated() {
      let last = level == c.chMult.count - 1
      levels.append(try AutoencoderLevel(
        down[level], blocks: c.numResBlocks, blockIn, c.ch * mult, dropout: c.dropout,
        attention: c.attnResolutions.contains(resolution),
        resample: last ? nil : ("downsample", { try AsymmetricDownsample($0, $1) })))
      blockIn = c.ch * mult
      if !last { resolution /= 2 }
    }
    self.levels = ModuleList(down, levels)
    mid = try AutoencoderMiddle(p["mid"], blockIn, dropout: c.dropout)
    normOut = try normalize(p["norm_out"], blockIn)
    convOut = try Conv2d(p["conv_out"], blockIn, c.doubleZ ? 2 * c.zChannels : c.zChannels, kernelSize: 3, padding: 1)
    super.init(p)
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor {
    var h = try convIn(x)
    for level in levels.items { h = try level(consume h) }
    return try convOut.afterGroupNormSiLU(normOut, mid(consume h))
  }
}

/// The SD decoder: conv_in, `mid`, the `up` levels run from the lowest resolution (`up.N-1`) to
/// the highest (`up.0`) with nearest ×2 + conv upsampling, norm_out → SiLU → conv_out. No tanh.
final class VAEDecoder: Module, Layer {
  let convIn: Conv2d
  let mid: AutoencoderMiddle
  let levels: ModuleList<AutoencoderLevel>
  let normOut: GroupNorm
  let convOut: Conv2d

  init(_ p: ModuleScope, _ c: AutoencoderKLConfig) throws {
    var blockIn = c.ch * (c.chMult.last ?? 1)
    var resolution = c.resolution / c.downsamplingFactor
    convIn = try Conv2d(p["conv_in"], c.zChannels, blockIn, kernelSize: 3, padding: 1)
    mid = try AutoencoderMiddle(p["mid"], blockIn, dropout: c.dropout)
    let up = p["up"]
    var levels: [AutoencoderLevel] = []
    for (level, mult) in c.chMult.enumerated().reversed() {
      levels.insert(try AutoencoderLevel(
        up[level], blocks: c.numResBlocks + 1, blockIn, c.ch * mult, dropout: c.dropout,
        attention: c.attnResolutions.contains(resolution),
        resample: level == 0 ? nil : ("upsample", { try Upsample($0, channels: $1, useConv: true) })), at: 0)
      blockIn = c.ch * mult
      if level != 0 { resolution *= 2 }
    }
    self.levels = ModuleList(up, levels)
    normOut = try normalize(p["norm_out"], blockIn)
    convOut = try Conv2d(p["conv_out"], blockIn, c.outCh, kernelSize: 3, padding: 1)
    super.init(p)
  }

  func callAsFunction(_ z: Tensor) throws -> Tensor {
    var h = try mid(convIn(z))
    for level in levels.items.reversed() { h = try level(consume h) }
    return try convOut.afterGroupNormSiLU(normOut, consume h)
  }
}
