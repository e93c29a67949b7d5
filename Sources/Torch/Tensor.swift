import CTorch

/// A libtorch tensor. It owns one handle and releases it when the last Swift reference goes.
///
/// Every operation that reaches libtorch can throw `TorchError` instead of crashing: shape
/// mismatches, bad dtypes and out-of-range indices arrive as libtorch's own message.
public final class Tensor {
  let handle: ct_tensor

  init(owning handle: ct_tensor) {
    self.handle = handle
  }

  deinit { ct_free(handle) }

  /// Number of tensors alive in libtorch handles (for leak checks).
  public static var liveCount: Int { Int(ct_live_tensors()) }

  public var rank: Int { Int(ct_ndim(handle)) }

  public var shape: [Int] {
    let n = rank
    var sizes = [Int64](repeating: 0, count: n)
    ct_sizes(handle, &sizes, Int32(n))
    return sizes.map(Int.init)
  }

  public var strides: [Int] {
    let n = rank
    var values = [Int64](repeating: 0, count: n)
    ct_strides(handle, &values, Int32(n))
    return values.map(Int.init)
  }

  /// The size of dimension `dim` (negative counts from the end).
  public func size(_ dim: Int) -> Int {
    let s = shape
    return s[dim < 0 ? dim + s.count : dim]
  }

  public var elementCount: Int { Int(ct_numel(handle)) }

  public var dtype: DType {
    // Every dtype libtorch can hand us was created through this layer or a checkpoint reader.
    DType(rawValue: ct_dtype(handle)) ?? .float32
  }

  public var device: Device {
    switch ct_device_type(handle) {
    case 1: return .cuda(Int(Swift.max(0, ct_device_index(handle))))
    case 2: return .meta
    case 3: return .mps
    default: return .cpu
    }
  }

  public var isContiguous: Bool { ct_is_contiguous(handle) }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    var out: UnsafeMutablePointer<CChar>?
    guard ct_describe(handle, &out) == 0, let text = out else {
      return "Tensor(\(dtype), shape: \(shape))"
    }
    defer { ct_free_string(text) }
    return String(cString: text)
  }
}
