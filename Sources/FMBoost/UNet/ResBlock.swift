import NN
import Torch

/// The UNet's residual block (keys `in_layers`, `emb_layers`, `out_layers`, `skip_connection`):
/// GN → SiLU → conv; the time embedding as scale and shift of the second GroupNorm
/// (GN(h)·(1 + scale) + shift, scale first) or added; SiLU → dropout → zero-initialised conv.
public final class ResBlock: Module {
  let inLayers: Sequential
  let embLayers: Sequential
  let outNorm: any Layer
  let outDropout: Dropout
  let outConv: Conv2d
  let skip: (any Layer)?
  let outChannels: Int
  let useScaleShiftNorm: Bool

  public init(
    channels: Int, embeddingChannels: Int, dropout: Double, outChannels: Int, useScaleShiftNorm: Bool,
    useGroupNorm: Bool = true, device: Device = .cpu, generator: Generator? = nil
  ) throws {
    self.outChannels = outChannels
    self.useScaleShiftNorm = useScaleShiftNorm
    func norm(_ channels: Int) throws -> any Layer {
      useGroupNorm ? try GroupNorm(groups: 32, channels: channels, eps: 1e-5, device: device) : Identity()
    }
    inLayers = Sequential([
      try norm(channels), SiLU(),
      try Conv2d(channels, outChannels, kernelSize: 3, padding: 1, device: device, generator: generator),
    ])
    embLayers = Sequential([
      SiLU(),
      try Linear(embeddingChannels, useScaleShiftNorm ? 2 * outChannels : outChannels, device: device, generator: generator),
    ])
    outNorm = try norm(outChannels)
    outDropout = Dropout(dropout)
    outConv = try Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, device: device, generator: generator)
    try outConv.zeroInitialise()
    skip = outChannels == channels
      ? nil : try Conv2d(channels, outChannels, kernelSize: 1, device: device, generator: generator)
    super.init()
    register("in_layers", inLayers)
    register("emb_layers", embLayers)
    register("out_layers", Sequential([outNorm, SiLU(), outDropout, outConv]))
    if let skip { register("skip_connection", skip) }
  }

  public func callAsFunction(_ x: Tensor, _ embedding: Tensor) throws -> Tensor {
    var h = try inLayers(x)
    let e = try embLayers(embedding).to(h.dtype).unsqueeze(dim: -1).unsqueeze(dim: -1)
    if useScaleShiftNorm {
      let scale = try e.narrow(dim: 1, start: 0, length: outChannels)
      let shift = try e.narrow(dim: 1, start: outChannels, length: outChannels)
      h = try outNorm(h) * (scale + 1) + shift
    } else {
      h = try outNorm(h + e)
    }
    h = try outConv(outDropout(h.silu()))
    return try (skip?(x) ?? x) + h
  }
}

extension Module {
  /// Zeroes every parameter of this module (the original's `zero_module`); no-op on `.meta`.
  func zeroInitialise() throws {
    try withNoGrad {
      for (_, p) in namedSlots() where p.value.device != .meta { try p.value.zero_() }
    }
  }
}
