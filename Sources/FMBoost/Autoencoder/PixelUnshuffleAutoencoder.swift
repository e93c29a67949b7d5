import Imaging
import Torch

/// An exact, parameter-free first stage: PyTorch's `pixel_unshuffle` (every f×f block of pixels
/// becomes 3·f² channels at one position) and `pixel_shuffle` back. Lossless, so the flow alone
/// decides the quality, and f² times fewer positions than pixel space for the UNet.
public final class PixelUnshuffleAutoencoder: LatentAutoencoder {
  public var codesPixelBlocks: Bool { true }
  public let factor: Int

  public init(factor: Int) throws {
    guard factor >= 1 else { throw TorchError.invalidArgument("pixel-unshuffle factor must be at least 1, got \(factor)") }
    self.factor = factor
  }

  public var kind: String { "pixel-unshuffle-\(factor)" }
  public var latentChannels: Int { 3 * factor * factor }
  public var downsamplingFactor: Int { factor }
  public var pixelRange: PixelRange { .symmetric }

  /// (B, C, H, W) → (B, C·f², H/f, W/f), channel c·f² + i·f + j holding pixel (f·y + i, f·x + j).
  public func encode(_ image: Tensor) throws -> Tensor {
    let (b, c, h, w) = (image.size(0), image.size(1), image.size(2), image.size(3))
    guard h % factor == 0, w % factor == 0 else {
      throw TorchError.invalidArgument("pixel-unshuffle ×\(factor) needs sides that are multiples of \(factor) (got \(h)×\(w))")
    }
    return try image.reshape([b, c, h / factor, factor, w / factor, factor]).permute([0, 1, 3, 5, 2, 4])
      .reshape([b, c * factor * factor, h / factor, w / factor])
  }

  public func decode(_ latent: Tensor) throws -> Tensor {
    let (b, c, h, w) = (latent.size(0), latent.size(1) / (factor * factor), latent.size(2), latent.size(3))
    guard latent.size(1) == c * factor * factor else {
      throw TorchError.invalidArgument("pixel-shuffle ×\(factor) needs a multiple of \(factor * factor) channels (got \(latent.size(1)))")
    }
    return try latent.reshape([b, c, factor, factor, h, w]).permute([0, 1, 4, 2, 5, 3]).reshape([b, c, h * factor, w * factor])
  }
}
