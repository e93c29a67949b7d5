/// Values on the restricted pickle machine's stack. Containers are reference types because pickle
/// mutates them after they were stored in the memo; every container is also registered with its
/// machine, which dismantles the whole graph iteratively afterwards (no deep recursive deinit, no
/// retained cycles).
enum PickleValue {
  case none
  case bool(Bool)
  case int(Int)
  /// An integer wider than 64 bits, kept as its little-endian bytes in hex.
  case bigInt(String)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case list(PickleList)
  case tuple(PickleList)
  case dict(PickleDict)
  case set(PickleList)
  /// A class or function reference (`module.name`) that was never resolved or called.
  case global(module: String, name: String)
  /// An instance of a class the reader does not know: recorded by name, never constructed.
  case object(PickleObject)
  /// A torch storage from a persistent id.
  case storage(StorageReference)
  /// A tensor to rebuild from a storage.
  case tensor(TensorSpec)
  /// The marker pushed by MARK.
  case mark
}

final class PickleList {
  var items: [PickleValue]
  init(_ items: [PickleValue] = []) { self.items = items }
}

final class PickleDict {
  var entries: [(key: PickleValue, value: PickleValue)] = []
  /// Positions of string and integer keys, so a later SETITEM replaces in O(1).
  private var positions: [String: Int] = [:]

  func set(_ key: PickleValue, _ value: PickleValue) {
    let id: String?
    switch key {
    case .string(let s): id = "s" + s
    case .int(let i): id = "i\(i)"
    default: id = nil
    }
    if let id, let at = positions[id] {
      entries[at].value = value
      return
    }
    if let id { positions[id] = entries.count }
    entries.append((key, value))
  }

  func removeAll() {
    entries.removeAll()
    positions.removeAll()
  }
}

final class PickleObject {
  let className: String
  var arguments: [PickleValue]
  var state: PickleValue = .none
  init(className: String, arguments: [PickleValue]) {
    self.className = className
    self.arguments = arguments
  }
}

/// A storage named by a persistent id: ('storage', <type>, key, location, numel[, view]).
struct StorageReference {
  let key: String
  let dtype: DTypeCode
  let elementCount: Int
}

/// The arguments of torch._utils._rebuild_tensor_v2.
struct TensorSpec {
  let storage: StorageReference
  let storageOffset: Int
  let shape: [Int]
  let strides: [Int]
  let requiresGrad: Bool
}

/// Storage element types by the torch storage class name.
enum DTypeCode: String, CaseIterable {
  case FloatStorage, HalfStorage, BFloat16Storage, DoubleStorage, LongStorage, IntStorage, ShortStorage,
    CharStorage, ByteStorage, BoolStorage
}
