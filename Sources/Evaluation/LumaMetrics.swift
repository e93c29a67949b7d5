import Torch

/// The super-resolution literature's protocol (SRCNN, VDSR and the tables that compare with them):
/// both images quantised to 8 bits, converted to the BT.601 luma Y ∈ [16, 235]
/// (Y = 16 + 65.481 R + 128.553 G + 24.966 B for R, G, B ∈ [0, 1], MATLAB's `rgb2ycbcr`), a border
/// of `shave` pixels (the scale) removed, PSNR over the 255 range and SSIM (11×11 Gaussian, σ 1.5,
/// valid region) on Y.
public enum LumaMetrics {
  /// (B, 1, H − 2·shave, W − 2·shave) luma in [16, 235] of images in [−1, 1].
  public static func luma(_ image: Tensor, shave: Int) throws -> Tensor {
    let rgb = try (((image.clamp(min: -1, max: 1) + 1) * 127.5).round() / 255)
    let (h, w) = (rgb.size(2), rgb.size(3))
    guard h > 2 * shave, w > 2 * shave else { throw TorchError.invalidArgument("a \(w)×\(h) image has nothing left after shaving \(shave) pixels") }
    let channels = try rgb.narrow(dim: 2, start: shave, length: h - 2 * shave).narrow(dim: 3, start: shave, length: w - 2 * shave).split(size: 1, dim: 1)
    return try channels[0] * 65.481 + channels[1] * 128.553 + channels[2] * 24.966 + 16
  }

  public static func psnr(_ prediction: Tensor, _ target: Tensor, shave: Int) throws -> Double {
    let mse = try (luma(prediction, shave: shave).to(.float64) - luma(target, shave: shave).to(.float64)).square().mean([1, 2, 3]).clamp(min: 1e-12)
    return try ((mse / (255.0 * 255.0)).log10() * -10).mean().item()
  }

  public static func ssim(_ prediction: Tensor, _ target: Tensor, shave: Int) throws -> Double {
    // ImageMetrics.ssim takes [−1, 1] with data range 1: Y / 255 mapped there keeps SSIM's constants at (0.01·255)², (0.03·255)².
    func unit(_ y: Tensor) throws -> Tensor { try y / 127.5 - 1 }
    return try ImageMetrics.ssim(unit(luma(prediction, shave: shave)), unit(luma(target, shave: shave)))
  }
}
