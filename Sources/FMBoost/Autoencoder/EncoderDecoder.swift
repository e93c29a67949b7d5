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

  init(_ c: AutoencoderKLConfig, device: Device, generator: Generator?) throws {
    convIn = try Conv2d(c.inChannels, c.ch, kernelSize: 3, padding: 1, device: device, generator: generator)
    var resolution = c.resolution
    var blockIn = c.ch
    var levels: [AutoencoderLevel] = []
    for (level, mult) in c.chMult.enumerated() {
      let blockOut = c.ch * mult
      var blocks: [ResnetBlock] = [], attentions: [AttnBlock] = []
      for _ in 0..<c.numResBlocks {
        blocks.append(try ResnetBlock(blockIn, blockOut, dropout: c.dropout, device: device, generator: generator))
        blockIn = blockOut
        if c.attnResolutions.contains(resolution) { attentions.append(try AttnBlock(blockIn, device: device, generator: generator)) }
      }
      var down: (String, any Layer)?
      if level != c.chMult.count - 1 {
        down = ("downsample", try AsymmetricDownsample(blockIn, device: device, generator: generator))
        resolution /= 2
      }
      levels.append(AutoencoderLevel(blocks: blocks, attentions: attentions, resample: down))
    }
    self.levels = ModuleList(levels)
    mid = try AutoencoderMiddle(blockIn, dropout: c.dropout, device: device, generator: generator)
    normOut = try normalize(blockIn, device: device)
    convOut = try Conv2d(blockIn, c.doubleZ ? 2 * c.zChannels : c.zChannels, kernelSize: 3, padding: 1, device: device, generator: generator)
    super.init()
    register("conv_in", convIn)
    register("down", self.levels)
    register("mid", mid)
    register("norm_out", normOut)
    register("conv_out", convOut)
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor {
    var h = try convIn(x)
    for level in levels.items { h = try level(h) }
    return try convOut(normOut(mid(h)).silu())
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

  init(_ c: AutoencoderKLConfig, device: Device, generator: Generator?) throws {
    var blockIn = c.ch * (c.chMult.last ?? 1)
    var resolution = c.resolution / c.downsamplingFactor
    convIn = try Conv2d(c.zChannels, blockIn, kernelSize: 3, padding: 1, device: device, generator: generator)
    mid = try AutoencoderMiddle(blockIn, dropout: c.dropout, device: device, generator: generator)
    var levels: [AutoencoderLevel] = []
    for (level, mult) in c.chMult.enumerated().reversed() {
      let blockOut = c.ch * mult
      var blocks: [ResnetBlock] = [], attentions: [AttnBlock] = []
      for _ in 0...c.numResBlocks {
        blocks.append(try ResnetBlock(blockIn, blockOut, dropout: c.dropout, device: device, generator: generator))
        blockIn = blockOut
        if c.attnResolutions.contains(resolution) { attentions.append(try AttnBlock(blockIn, device: device, generator: generator)) }
      }
      var up: (String, any Layer)?
      if level != 0 {
        up = ("upsample", try Upsample(channels: blockIn, useConv: true, device: device, generator: generator))
        resolution *= 2
      }
      levels.insert(AutoencoderLevel(blocks: blocks, attentions: attentions, resample: up), at: 0)
    }
    self.levels = ModuleList(levels)
    normOut = try normalize(blockIn, device: device)
    convOut = try Conv2d(blockIn, c.outCh, kernelSize: 3, padding: 1, device: device, generator: generator)
    super.init()
    register("conv_in", convIn)
    register("mid", mid)
    register("up", self.levels)
    register("norm_out", normOut)
    register("conv_out", convOut)
  }

  func callAsFunction(_ z: Tensor) throws -> Tensor {
    var h = try mid(convIn(z))
    for level in levels.items.reversed() { h = try level(h) }
    return try convOut(normOut(h).silu())
  }
}
