import Torch

/// How a low-resolution latent is brought to the high-resolution latent size (the original's
/// `upsampling_mode`): pixel-space upsampling (PSU), latent interpolation, noise upsampling or none.
public enum UpsamplingMode: String, Sendable, Codable, CaseIterable {
  /// Decode (or take the low-resolution image), bilinear-resize in pixel space, encode: the paper's choice.
  case psu
  case bilinear
  case nearest
  case bicubic
  /// Nearest ×s, then every position not on the [::s, ::s] lattice replaced by N(0, 1) noise.
  case noiseUpsampling = "noise_upsampling"
  case identity
}

/// Everything PSU needs besides the latent.
public struct PixelSpace {
  public let autoencoder: any LatentAutoencoder
  /// The latent scale (SD: 0.18215): latents in the flow are autoencoder latents × scale.
  public let latentScale: Double

  public init(autoencoder: any LatentAutoencoder, latentScale: Double) {
    self.autoencoder = autoencoder
    self.latentScale = latentScale
  }

  /// Image in the autoencoder's range → scaled latent (posterior mode).
  public func encode(_ image: Tensor) throws -> Tensor { try autoencoder.encode(image) * latentScale }
  /// Scaled latent → image in the autoencoder's range.
  public func decode(_ latent: Tensor) throws -> Tensor { try autoencoder.decode(latent / latentScale) }
}

/// PSU of an image: bilinear resize in pixel space to `size` latent positions × the first stage's
/// factor, then encode (scaled). Unlike `upsampleLatent(.psu)` it never passes its input through,
/// so an image that happens to have the latent size is still encoded.
public func pixelSpaceUpsample(_ image: Tensor, to size: (Int, Int), pixelSpace: PixelSpace) throws -> Tensor {
  let f = pixelSpace.autoencoder.downsamplingFactor
  return try pixelSpace.encode(image.interpolate(size: (size.0 * f, size.1 * f), mode: .bilinear))
}

/// Brings `latent` (B, C, h, w) to `size` latent positions with `mode`. For PSU, `image` is the
/// low-resolution image when known (training), else the latent is decoded first; latents that
/// already have the target size pass through (precomputed PSU latents).
public func upsampleLatent(
  _ latent: Tensor, to size: (Int, Int), mode: UpsamplingMode, image: Tensor? = nil, pixelSpace: PixelSpace? = nil,
  generator: Generator? = nil
) throws -> Tensor {
  switch mode {
  case .identity:
    return latent
  case .psu:
    if latent.size(2) == size.0 && latent.size(3) == size.1 { return latent }
    guard let pixelSpace else { throw TorchError.invalidArgument("PSU needs an autoencoder") }
    return try pixelSpaceUpsample(image ?? pixelSpace.decode(latent), to: size, pixelSpace: pixelSpace)
  case .bilinear:
    return try latent.interpolate(size: size, mode: .bilinear)
  case .nearest:
    return try latent.interpolate(size: size, mode: .nearest)
  case .bicubic:
    return try latent.interpolate(size: size, mode: .bicubic)
  case .noiseUpsampling:
    let h = latent.size(2)
    guard latent.size(2) == latent.size(3), size.0 == size.1 else {
      throw TorchError.invalidArgument("noise upsampling needs square latents")
    }
    if size.0 <= h { return try latent.interpolate(size: size, mode: .nearest) }
    guard size.0 % h == 0 else { throw TorchError.invalidArgument("noise upsampling needs an integer factor (\(h) → \(size.0))") }
    let s = size.0 / h
    let up = try latent.interpolate(size: size, mode: .nearest)
    let noise = try up.randnLike(generator: generator)
    // 1 on the [::s, ::s] lattice, 0 elsewhere.
    let line = try Tensor((0..<size.0).map { Float($0 % s == 0 ? 1 : 0) }).placed(on: latent.device)
    let mask = try line.reshape([1, 1, size.0, 1]) * line.reshape([1, 1, 1, size.0])
    return try up * mask + noise * (1 - mask)
  }
}
