import CTorch

/// Resampling modes of `interpolate`, as in `torch.nn.functional.interpolate`.
public enum InterpolationMode: Int32, Sendable, CaseIterable {
  case nearest = 0, bilinear, bicubic, area

  public init?(name: String) {
    switch name {
    case "nearest": self = .nearest
    case "bilinear": self = .bilinear
    case "bicubic": self = .bicubic
    case "area": self = .area
    default: return nil
    }
  }
}

// Neural-network functionals (torch.nn.functional) on the input tensor.
extension Tensor {
  /// 2-D convolution of (N, C, H, W) with weight (O, C/groups, kH, kW).
  public func conv2d(
    _ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
    dilation: (Int, Int) = (1, 1), groups: Int = 1
  ) throws -> Tensor {
    let s = [Int64(stride.0), Int64(stride.1)], p = [Int64(padding.0), Int64(padding.1)]
    let d = [Int64(dilation.0), Int64(dilation.1)]
    return try withExtendedLifetime((weight, bias)) {
      try produce { ct_conv(handle, weight.handle, bias?.handle, 2, s, p, d, Int64(groups), $0) }
    }
  }

  /// `conv2d(silu(groupNorm(self)), weight, bias)` with stride 1 and `padding` on every side. In
  /// inference on float32, when the convolution is large enough to run in bands, each band is
  /// normalised as it is read, so the normalised tensor (as large as `self`) never exists.
  ///
  /// With `sum`, the result is that plus `sum` (a resnet block's residual), written over `sum`'s
  /// memory when nothing else holds it (no other reference, view or gradient) and it has the result's
  /// shape and dtype; otherwise into a new tensor. The numbers are the same either way.
  public func groupNormSiLUConv2d(
    groups: Int, normWeight: Tensor, normBias: Tensor, eps: Double, _ weight: Tensor, bias: Tensor?, padding: Int,
    adding sum: consuming Tensor? = nil
  ) throws -> Tensor {
    let overwrite: Int32 = isKnownUniquelyReferenced(&sum) ? 1 : 0
    return try withExtendedLifetime((normWeight, normBias, weight, bias, sum)) {
      try produce {
        ct_group_norm_silu_conv2d(handle, Int64(groups), normWeight.handle, normBias.handle, eps, weight.handle, bias?.handle,
                                  Int64(padding), sum?.handle, overwrite, $0)
      }
    }
  }

  /// `conv2d(self, weight, bias)` for a 1×1 kernel (stride 1, no padding), written over `self`'s
  /// memory when nothing else holds `self` (no other reference, view or gradient), `self` is
  /// contiguous (NCHW or channels-last) and the output has no more channels: the result then lives in
  /// `self`'s storage, whose input values are gone. Otherwise an ordinary convolution.
  public static func conv1x1Overwriting(_ x: consuming Tensor, _ weight: Tensor, bias: Tensor?) throws -> Tensor {
    let overwrite: Int32 = isKnownUniquelyReferenced(&x) ? 1 : 0
    return try withExtendedLifetime((x, weight, bias)) {
      try produce { ct_conv1x1_over_input(x.handle, overwrite, weight.handle, bias?.handle, $0) }
    }
  }

  /// `conv2d(interpolate(self, scaleFactor: 2, mode: .nearest), weight, bias)` with stride 1 and
  /// `padding` on every side; banded as `groupNormSiLUConv2d`, without the upsampled tensor (4× `self`).
  public func nearestTwiceConv2d(_ weight: Tensor, bias: Tensor?, padding: Int) throws -> Tensor {
    guard rank == 4 else { throw TorchError.invalidArgument("nearestTwiceConv2d expects (N, C, H, W), got \(shape)") }
    return try withExtendedLifetime((weight, bias)) {
      try produce { ct_nearest_twice_conv2d(handle, weight.handle, bias?.handle, Int64(padding), $0) }
    }
  }

  /// 1-D convolution of (N, C, L) with weight (O, C/groups, k).
  public func conv1d(
    _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1
  ) throws -> Tensor {
    let s = [Int64(stride)], p = [Int64(padding)], d = [Int64(dilation)]
    return try withExtendedLifetime((weight, bias)) {
      try produce { ct_conv(handle, weight.handle, bias?.handle, 1, s, p, d, Int64(groups), $0) }
    }
  }

  /// Transposed 2-D convolution with weight (C, O/groups, kH, kW).
  public func convTranspose2d(
    _ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
    outputPadding: (Int, Int) = (0, 0), groups: Int = 1, dilation: (Int, Int) = (1, 1)
  ) throws -> Tensor {
    let s = [Int64(stride.0), Int64(stride.1)], p = [Int64(padding.0), Int64(padding.1)]
    let o = [Int64(outputPadding.0), Int64(outputPadding.1)], d = [Int64(dilation.0), Int64(dilation.1)]
    return try withExtendedLifetime((weight, bias)) {
      try produce { ct_conv_transpose2d(handle, weight.handle, bias?.handle, s, p, o, Int64(groups), d, $0) }
    }
  }

  /// x·Wᵀ + b with weight (out, in).
  public func linear(_ weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
    try withExtendedLifetime((weight, bias)) { try produce { ct_linear(handle, weight.handle, bias?.handle, $0) } }
  }

  public func groupNorm(groups: Int, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
    try withExtendedLifetime((weight, bias)) {
      try produce { ct_group_norm(handle, Int64(groups), weight?.handle, bias?.handle, eps, $0) }
    }
  }

  public func layerNorm(_ normalizedShape: [Int], weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
    let n = normalizedShape.map(Int64.init)
    return try withExtendedLifetime((weight, bias)) {
      try produce { ct_layer_norm(handle, n, Int32(n.count), weight?.handle, bias?.handle, eps, $0) }
    }
  }

  public func softmax(dim: Int) throws -> Tensor { try produce { ct_softmax(handle, Int64(dim), false, $0) } }
  public func logSoftmax(dim: Int) throws -> Tensor { try produce { ct_softmax(handle, Int64(dim), true, $0) } }

  /// Zeroes elements with probability `p` and scales the rest by 1/(1−p) while `training`.
  public func dropout(p: Double, training: Bool, generator: Generator? = nil) throws -> Tensor {
    guard training, p > 0 else { return self }
    guard p < 1 else { return try zerosLike() }
    let keep = try Tensor.empty(shape, dtype: dtype)  // drawn on the CPU, where the generators are
    try keep.bernoulli_(1 - p, generator: generator)
    return try self * keep.placed(on: device) / (1 - p)
  }

  /// Resizes the spatial dimensions of (N, C, H, W) to `size` = (H', W').
  /// `antialias` applies to bilinear and bicubic downsampling (as PyTorch's `antialias=True`).
  public func interpolate(
    size: (Int, Int), mode: InterpolationMode, alignCorners: Bool = false, antialias: Bool = false
  ) throws -> Tensor {
    let s = [Int64(size.0), Int64(size.1)]
    return try produce { ct_interpolate(handle, mode.rawValue, s, nil, alignCorners, antialias, $0) }
  }

  /// Resizes by `scaleFactor` (output floor(in·scale)), passing the factor to the kernel as
  /// `F.interpolate(scale_factor=...)` does.
  public func interpolate(
    scaleFactor: Double, mode: InterpolationMode, alignCorners: Bool = false, antialias: Bool = false
  ) throws -> Tensor {
    guard rank == 4 else { throw TorchError.invalidArgument("interpolate expects (N, C, H, W), got \(shape)") }
    let s = [Int64((Double(size(2)) * scaleFactor).rounded(.down)), Int64((Double(size(3)) * scaleFactor).rounded(.down))]
    let scales = [scaleFactor, scaleFactor]
    let passScales = mode != .area
    return try produce { out in
      scales.withUnsafeBufferPointer {
        ct_interpolate(handle, mode.rawValue, s, passScales ? $0.baseAddress : nil, alignCorners, antialias, out)
      }
    }
  }

  /// `countIncludePad: false` averages over the window's positions inside the input only.
  public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), countIncludePad: Bool = true) throws -> Tensor {
    let (k, s, p) = Self.poolArguments(kernel, stride, padding)
    return try produce { ct_avg_pool2d(handle, k, s, p, countIncludePad, $0) }
  }

  public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws -> Tensor {
    let (k, s, p) = Self.poolArguments(kernel, stride, padding)
    return try produce { ct_max_pool2d(handle, k, s, p, $0) }
  }

  private static func poolArguments(_ kernel: (Int, Int), _ stride: (Int, Int)?, _ padding: (Int, Int)) -> ([Int64], [Int64], [Int64]) {
    let k = [Int64(kernel.0), Int64(kernel.1)]
    return (k, stride.map { [Int64($0.0), Int64($0.1)] } ?? k, [Int64(padding.0), Int64(padding.1)])
  }

  /// Eigenvalues (ascending) and eigenvectors (as columns) of a symmetric matrix.
  public func symmetricEigen() throws -> (values: Tensor, vectors: Tensor) {
    var values: ct_tensor?, vectors: ct_tensor?
    try check(ct_linalg_eigh(handle, &values, &vectors))
    guard let values, let vectors else { throw TorchError.libtorch("linalg_eigh returned no tensor") }
    return (Tensor(owning: values), Tensor(owning: vectors))
  }

  /// Mean squared error against `target` (mean over all elements).
  public func mseLoss(_ target: Tensor) throws -> Tensor {
    try withExtendedLifetime(target) { try produce { ct_mse_loss(handle, target.handle, $0) } }
  }
}
