import Foundation
import Torch

/// `fmboost eval`: each image is downsampled ×2 (or ×4; bicubic, antialiased), brought back to its size by
/// every method, and compared with the original.
public enum UpsamplingEvaluation {
  public struct Score: Sendable {
    public let image: String
    public let method: String
    public let psnr: Double
    public let ssim: Double
    /// On the BT.601 luma with a border of the scale shaved (`LumaMetrics`), as SR papers report.
    public let psnrY: Double
    public let ssimY: Double
    /// Gradient energy of the result over that of the original (1 = as sharp; blur < 1).
    public let sharpness: Double
    public let seconds: Double
  }

  /// The original (3, H, W) as (1, 3, H', W'): centre-cropped to at most `maxSide` pixels a side
  /// (0: no limit), then cropped from the top-left to a multiple of `scale`, so the ×1/scale
  /// downscale is exact (the SR literature's protocol).
  public static func prepare(_ image: Tensor, scale: Int, maxSide: Int) throws -> Tensor {
    let limit = maxSide > 0 ? maxSide : Int.max
    var cropped = try image.narrow(dim: 1, start: max(0, image.size(1) - limit) / 2, length: min(image.size(1), limit))
      .narrow(dim: 2, start: max(0, image.size(2) - limit) / 2, length: min(image.size(2), limit))
    let h = cropped.size(1) / scale * scale, w = cropped.size(2) / scale * scale
    guard h >= 2 * scale, w >= 2 * scale else { throw TorchError.invalidArgument("smaller than \(2 * scale)×\(2 * scale) pixels") }
    cropped = try cropped.narrow(dim: 1, start: 0, length: h).narrow(dim: 2, start: 0, length: w)
    return try cropped.unsqueeze(dim: 0).contiguous()
  }

  /// (3, H, W) with its short side brought down to `limit` (bicubic, antialiased); 0 or a smaller
  /// image leaves it as it is.
  public static func limitShortSide(_ image: Tensor, to limit: Int) throws -> Tensor {
    let short = min(image.size(1), image.size(2))
    guard limit > 0, short > limit else { return image }
    let scale = Double(limit) / Double(short)
    let size = (Int((Double(image.size(1)) * scale).rounded()), Int((Double(image.size(2)) * scale).rounded()))
    return try image.unsqueeze(dim: 0).interpolate(size: size, mode: .bicubic, antialias: true).squeeze(dim: 0).clamp(min: -1, max: 1)
  }

  /// The low-resolution input: bicubic, antialiased ×1/scale (PIL's and MATLAB's `imresize`).
  public static func downsample(_ original: Tensor, scale: Int = 2) throws -> Tensor {
    try original.interpolate(size: (original.size(2) / scale, original.size(3) / scale), mode: .bicubic, antialias: true).clamp(min: -1, max: 1)
  }

  /// PSNR and SSIM as the training metrics compute them, their luma versions with `scale` pixels
  /// shaved, sharpness as the gradient-energy ratio.
  public static func score(_ result: Tensor, original: Tensor, scale: Int = 2, image: String, method: String, seconds: Double) throws -> Score {
    let clamped = try result.clamp(min: -1, max: 1)
    return Score(
      image: image, method: method, psnr: try ImageMetrics.psnr(clamped, original), ssim: try ImageMetrics.ssim(clamped, original),
      psnrY: try LumaMetrics.psnr(clamped, original, shave: scale), ssimY: try LumaMetrics.ssim(clamped, original, shave: scale),
      sharpness: try gradientEnergy(clamped) / max(1e-12, try gradientEnergy(original)), seconds: seconds)
  }

  static func gradientEnergy(_ x: Tensor) throws -> Double {
    let (dy, dx) = try differences(x)
    return try dy.square().mean().item() + dx.square().mean().item()
  }

  /// Forward differences of (B, C, H, W) down the rows (H − 1 × W) and along them (H × W − 1).
  static func differences(_ x: Tensor) throws -> (dy: Tensor, dx: Tensor) {
    let (h, w) = (x.size(2), x.size(3))
    return (try x.narrow(dim: 2, start: 1, length: h - 1) - x.narrow(dim: 2, start: 0, length: h - 1),
            try x.narrow(dim: 3, start: 1, length: w - 1) - x.narrow(dim: 3, start: 0, length: w - 1))
  }

  /// Mean scores per method, in the order methods first appear.
  public static func means(_ scores: [Score]) -> [Score] {
    var order: [String] = []
    for s in scores where !order.contains(s.method) { order.append(s.method) }
    return order.map { method in
      let group = scores.filter { $0.method == method }
      let n = Double(group.count)
      return Score(image: "mean", method: method, psnr: group.map(\.psnr).reduce(0, +) / n, ssim: group.map(\.ssim).reduce(0, +) / n,
                   psnrY: group.map(\.psnrY).reduce(0, +) / n, ssimY: group.map(\.ssimY).reduce(0, +) / n,
                   sharpness: group.map(\.sharpness).reduce(0, +) / n, seconds: group.map(\.seconds).reduce(0, +) / n)
    }
  }

  /// Every score; with `fid`, the mean rows also carry each method's patch FID and KID.
  public static func csv(_ scores: [Score], fid: [String: PatchFID.Result] = [:]) -> String {
    // RFC 4180: a field with a comma or a quote is quoted, quotes doubled.
    func field(_ text: String) -> String {
      text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
    func perceptual(_ s: Score) -> String {
      guard s.image == "mean", let r = fid[s.method] else { return fid.isEmpty ? "" : ",,," }
      return String(format: ",%.4f,%.6f,%.6f", r.fid, r.kidMean, r.kidStd)
    }
    return "image,method,psnr_db,ssim,sharpness,seconds,psnr_y_db,ssim_y" + (fid.isEmpty ? "" : ",fid,kid_mean,kid_std") + "\n"
      + scores.map {
        String(format: "%@,%@,%.4f,%.5f,%.4f,%.3f,%.4f,%.5f", field($0.image), field($0.method), $0.psnr, $0.ssim, $0.sharpness, $0.seconds,
               $0.psnrY, $0.ssimY) + perceptual($0)
      }
      .joined(separator: "\n") + "\n"
  }

  /// A Markdown table of per-method means (with patch FID and KID × 10³ when given).
  public static func table(_ means: [Score], fid: [String: PatchFID.Result] = [:]) -> String {
    let extra = fid.isEmpty ? ("", "") : (" FID | KID × 10³ |", " ---: | ---: |")
    var lines = ["| method | PSNR (dB) | SSIM | Y-PSNR (dB) | Y-SSIM | sharpness | s / image |" + extra.0,
                 "| --- | ---: | ---: | ---: | ---: | ---: | ---: |" + extra.1]
    for s in means {
      // Three significant digits: bilinear and bicubic take milliseconds, the model seconds.
      var line = String(format: "| %@ | %.2f | %.4f | %.2f | %.4f | %.3f | %.3g |", s.method, s.psnr, s.ssim, s.psnrY, s.ssimY, s.sharpness, s.seconds)
      if let r = fid[s.method] { line += String(format: " %.2f | %.2f ± %.2f |", r.fid, r.kidMean * 1000, r.kidStd * 1000) }
      lines.append(line)
    }
    return lines.joined(separator: "\n")
  }
}

/// Side-by-side crops for looking at the results (`eval --panels`): the same window of every
/// method's result and of the original, where the original has the most detail.
public enum ComparisonPanel {
  /// Top-left corner of the `size` × `size` window (on a grid of half-window steps) with the highest
  /// gradient energy of the original (1, 3, H, W).
  public static func detailWindow(_ original: Tensor, size: Int) throws -> (y: Int, x: Int) {
    let (h, w) = (original.size(2), original.size(3))
    guard h > size, w > size else { return (max(0, h - size) / 2, max(0, w - size) / 2) }
    let (dy, dx) = try UpsamplingEvaluation.differences(original.mean([1], keepDim: true))
    let step = max(1, size / 2)
    let energy = try (dy.narrow(dim: 3, start: 0, length: w - 1).square() + dx.narrow(dim: 2, start: 0, length: h - 1).square()).avgPool2d(kernel: (size, size), stride: (step, step))
    let index = try energy.flatten().argmax().itemInt()
    return (index / energy.size(3) * step, index % energy.size(3) * step)
  }

  /// The window of each image (1, 3, H, W), left to right, 4 px of white between them.
  public static func strip(_ images: [Tensor], window: (y: Int, x: Int), size: Int) throws -> Tensor {
    let crops = try images.map {
      try $0.narrow(dim: 2, start: window.y, length: min(size, $0.size(2) - window.y)).narrow(dim: 3, start: window.x, length: min(size, $0.size(3) - window.x)).clamp(min: -1, max: 1)
    }
    let gap = try Tensor.ones([1, 3, crops[0].size(2), 4])
    var pieces: [Tensor] = []
    for (i, crop) in crops.enumerated() { pieces += i == 0 ? [crop] : [gap, crop] }
    return try Tensor.cat(pieces, dim: 3).squeeze(dim: 0)
  }
}
