import CTorch

/// An error reported by libtorch or by the Swift tensor layer's own argument checks.
public enum TorchError: Error, CustomStringConvertible, Equatable {
  /// libtorch threw; the message is libtorch's own (without its C++ backtrace).
  case libtorch(String)
  /// The Swift layer rejected its arguments before calling libtorch.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .libtorch(let message): return "libtorch: \(message)"
    case .invalidArgument(let message): return message
    }
  }
}

/// Throws the thread's last libtorch error when `status` is non-zero.
@inline(__always)
func check(_ status: Int32) throws {
  if status != 0 { throw TorchError.libtorch(String(cString: ct_last_error())) }
}

/// Runs a C call that produces one tensor handle.
@inline(__always)
func produceHandle(_ body: (UnsafeMutablePointer<ct_tensor?>) -> Int32) throws -> ct_tensor {
  var out: ct_tensor?
  try check(body(&out))
  guard let handle = out else { throw TorchError.libtorch("libtorch returned no tensor") }
  return handle
}

/// Runs a C call that produces one tensor and wraps the handle.
@inline(__always)
func produce(_ body: (UnsafeMutablePointer<ct_tensor?>) -> Int32) throws -> Tensor {
  Tensor(owning: try produceHandle(body))
}
