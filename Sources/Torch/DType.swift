/// Element types; raw values are libtorch's `c10::ScalarType` codes.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
  case uint8 = 0
  case int8 = 1
  case int16 = 2
  case int32 = 3
  case int64 = 4
  case float16 = 5
  case float32 = 6
  case float64 = 7
  case bool = 11
  case bfloat16 = 15

  /// Bytes per element.
  public var byteSize: Int {
    switch self {
    case .uint8, .int8, .bool: return 1
    case .int16, .float16, .bfloat16: return 2
    case .int32, .float32: return 4
    case .int64, .float64: return 8
    }
  }

  public var isFloatingPoint: Bool {
    switch self {
    case .float16, .float32, .float64, .bfloat16: return true
    default: return false
    }
  }

  /// The safetensors dtype name (`F32`, `BF16`, ...).
  public var safetensorsName: String {
    switch self {
    case .uint8: return "U8"
    case .int8: return "I8"
    case .int16: return "I16"
    case .int32: return "I32"
    case .int64: return "I64"
    case .float16: return "F16"
    case .float32: return "F32"
    case .float64: return "F64"
    case .bool: return "BOOL"
    case .bfloat16: return "BF16"
    }
  }

  public init?(safetensorsName name: String) {
    guard let match = DType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
    self = match
  }

  public var description: String {
    switch self {
    case .uint8: return "uint8"
    case .int8: return "int8"
    case .int16: return "int16"
    case .int32: return "int32"
    case .int64: return "int64"
    case .float16: return "float16"
    case .float32: return "float32"
    case .float64: return "float64"
    case .bool: return "bool"
    case .bfloat16: return "bfloat16"
    }
  }
}

/// Where a tensor lives. `meta` tensors have shapes but no storage (module trees without weights,
/// and the device tests: every operation runs for its shapes only).
public enum Device: Equatable, Sendable, CustomStringConvertible {
  case cpu
  case cuda(Int)
  case meta
  case mps

  var code: Int32 {
    switch self {
    case .cpu: return 0
    case .cuda: return 1
    case .meta: return 2
    case .mps: return 3
    }
  }

  var index: Int32 {
    if case .cuda(let i) = self { return Int32(i) }
    return -1
  }

  public var description: String {
    switch self {
    case .cpu: return "cpu"
    case .cuda(let i): return "cuda:\(i)"
    case .meta: return "meta"
    case .mps: return "mps"
    }
  }
}

/// Swift scalar types that map one-to-one onto a tensor dtype.
public protocol TensorScalar {
  static var dtype: DType { get }
}

extension Float: TensorScalar { public static var dtype: DType { .float32 } }
extension Double: TensorScalar { public static var dtype: DType { .float64 } }
extension Int64: TensorScalar { public static var dtype: DType { .int64 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
extension Int16: TensorScalar { public static var dtype: DType { .int16 } }
extension Int8: TensorScalar { public static var dtype: DType { .int8 } }
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension Bool: TensorScalar { public static var dtype: DType { .bool } }
