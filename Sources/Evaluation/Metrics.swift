import Foundation
import Torch

/// Image-quality measures of the original's tracker, on images in [−1, 1] mapped to [0, 1].
public enum ImageMetrics {
  /// 20·log10(1/√mse) per image (clamped to [0, 1]), averaged over the batch.
  public static func psnr(_ prediction: Tensor, _ target: Tensor) throws -> Double {
    let p = try ((prediction + 1) / 2).clamp(min: 0, max: 1), t = try ((target + 1) / 2).clamp(min: 0, max: 1)
    let mse = try (p - t).square().mean([1, 2, 3]).clamp(min: 1e-12)
    return try (mse.log10() * -10).mean().item()
  }

  /// SSIM with an 11×11 Gaussian window (σ = 1.5), data range 1, over the valid region; predictions
  /// are not clamped (as the original).
  public static func ssim(_ prediction: Tensor, _ target: Tensor) throws -> Double {
    // In float64: the variance terms subtract nearly equal blurred products.
    let x = try (prediction.to(.float64) + 1) / 2, y = try (target.to(.float64) + 1) / 2
    let channels = x.size(1)
    let g = (0..<11).map { i -> Double in let d = Double(i - 5); return Foundation.exp(-d * d / (2 * 1.5 * 1.5)) }
    let sum = g.reduce(0, +)
    let g1 = try Tensor(g.map { $0 / sum })
    // The Gaussian window is separable: a column then a row pass (22 taps instead of 121), all five
    // blurred maps in one grouped convolution each.
    let stacked = try Tensor.cat([x, y, x * x, y * y, x * y], dim: 1)
    let groups = stacked.size(1)
    let column = try g1.reshape([1, 1, 11, 1]).expand([groups, 1, 11, 1]).contiguous()
    let row = try g1.reshape([1, 1, 1, 11]).expand([groups, 1, 1, 11]).contiguous()
    let blurred = try stacked.conv2d(column, groups: groups).conv2d(row, groups: groups).split(size: channels, dim: 1)
    let (mx, my) = (blurred[0], blurred[1])
    let sxx = try blurred[2] - mx * mx, syy = try blurred[3] - my * my, sxy = try blurred[4] - mx * my
    let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
    let map = try ((mx * my * 2 + c1) * (sxy * 2 + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return try map.mean().item()
  }

  public static func mse(_ prediction: Tensor, _ target: Tensor) throws -> Double {
    try (prediction - target).square().mean().item()
  }
}

