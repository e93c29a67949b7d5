import NN
import Torch

/// The UNet's residual block (keys `in_layers`, `emb_layers`, `out_layers`, `skip_connection`):
/// GN → SiLU → conv; the time embedding as scale and shift of the second GroupNorm
/// (GN(h)·(1 + scale) + shift, scale first) or added; SiLU → dropout → zero-initialised conv.
public final class ResBlock: Module {
  let inLayers: Sequential
  let embLayers: Sequential
  /// `out_layers.0` and `out_layers.3`: the original's out_layers sequence cannot run as one,
  /// since the embedding enters between its norm and its activation.
  let outNorm: any Layer
  let outDropout: Dropout
  let outConv: Conv2d
  let skip: Conv2d?
  let outChannels: Int
  let useScaleShiftNorm: Bool

  public init(
    _ p: ModuleScope, channels: Int, embeddingChannels: Int, dropout: Double, outChannels: Int, useScaleShiftNorm: Bool,
    useGroupNorm: Bool = true
  ) throws {
    self.outChannels = outChannels
    self.useScaleShiftNorm = useScaleShiftNorm
    func norm(_ p: ModuleScope, _ channels: Int) throws -> any Layer {
      useGroupNorm ? try GroupNorm(p, groups: 32, channels: channels, eps: 1e-5) : Identity()
    }
    let inScope = p["in_layers"]
    inLayers = Sequential(inScope, [
      try norm(inScope["0"], channels), SiLU(overwritesInput: useGroupNorm), try Conv2d(inScope["2"], channels, outChannels, kernelSize: 3, padding: 1),
    ])
    let embScope = p["emb_layers"]
    embLayers = Sequential(embScope, [
      SiLU(), try Linear(embScope["1"], embeddingChannels, useScaleShiftNorm ? 2 * outChannels : outChannels),
    ])
    outNorm = try norm(p["out_layers.0"], outChannels)
    outDropout = Dropout(dropout)
    outConv = try Conv2d(p["out_layers.3"], outChannels, outChannels, kernelSize: 3, padding: 1)
    try p.zeroInitialise(outConv)
    skip = outChannels == channels ? nil : try Conv2d(p["skip_connection"], channels, outChannels, kernelSize: 1)
    super.init(p)
  }

  public func callAsFunction(_ x: Tensor, _ embedding: Tensor) throws -> Tensor {
    var h = try inLayers(x)
    let e = try embLayers(embedding).to(h.dtype).unsqueeze(dim: -1).unsqueeze(dim: -1)
    if useScaleShiftNorm {
      let scale = try e.narrow(dim: 1, start: 0, length: outChannels)
      let shift = try e.narrow(dim: 1, start: outChannels, length: outChannels)
      // outNorm's output is fresh, or (without norms) inLayers' own: nothing else holds it.
      h = try outNorm(h).mulOverwriting(scale + 1).addOverwriting(shift)
    } else {
      h = try outNorm(h.addOverwriting(e))
    }
    h = try outConv(outDropout(h.siluOverwriting()))
    return try h.addOverwriting(skip?(x) ?? x)
  }
}
