import Torch

/// Whole images to and from latents, as `fmboost encode` and `decode` do per file.
extension LatentAutoencoder {
  /// A (3, H, W) image, centre-cropped to a multiple of the factor, encoded whole or in tiles of
  /// `tile` latent positions (blended overlaps of a quarter tile): a (C, H/f, W/f) latent.
  public func encodeWhole(_ image: Tensor, tile: Int? = nil) throws -> Tensor {
    let f = downsamplingFactor
    let (h, w) = (image.size(1) / f * f, image.size(2) / f * f)
    guard h > 0, w > 0 else { throw TorchError.invalidArgument("smaller than \(f)×\(f) pixels") }
    let cropped = try image.narrow(dim: 1, start: (image.size(1) - h) / 2, length: h).narrow(dim: 2, start: (image.size(2) - w) / 2, length: w)
    return try withNoGrad {
      let batch = try cropped.unsqueeze(dim: 0)
      let latent = try tile.map { try Tiling(tile: $0, overlap: max(1, $0 / 4)).applyDownscaling(batch, factor: f) { try encode($0) } } ?? encode(batch)
      return try latent.squeeze(dim: 0).contiguous()
    }
  }

  /// A (C, h, w) or (1, C, h, w) latent of this autoencoder (unscaled), decoded whole or in tiles
  /// of `tile` latent positions: a (1, 3, h·f, w·f) image.
  public func decodeWhole(_ latent: Tensor, tile: Int? = nil) throws -> Tensor {
    let batch = latent.rank == 3 ? try latent.unsqueeze(dim: 0) : latent
    guard batch.rank == 4, batch.size(0) == 1, batch.size(1) == latentChannels else {
      throw TorchError.invalidArgument("latent shape \(latent.shape) does not fit a \(latentChannels)-channel \(kind)")
    }
    return try withNoGrad {
      try tile.map { try Tiling(tile: $0, overlap: max(1, $0 / 4)).apply(batch, scale: downsamplingFactor, decode) } ?? decode(batch)
    }
  }
}
