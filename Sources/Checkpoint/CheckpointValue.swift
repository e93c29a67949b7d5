import Torch

/// The object tree of a `torch.save` file, as plain values: what the pickle held, with tensors
/// rebuilt and every unknown class kept only as its name.
public indirect enum CheckpointValue {
  case none
  case bool(Bool)
  case int(Int)
  /// An integer wider than 64 bits (hex digits).
  case bigInt(String)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case list([CheckpointValue])
  case tuple([CheckpointValue])
  /// Entries in file order.
  case dict([(key: CheckpointValue, value: CheckpointValue)])
  case set([CheckpointValue])
  case tensor(Tensor)
  /// An instance of a class the reader does not construct (omegaconf configs, callbacks, ...).
  case placeholder(className: String)
  /// A reference to a class or function (never resolved).
  case global(String)

  /// The value under a string key of a dict.
  public subscript(key: String) -> CheckpointValue? {
    guard case .dict(let entries) = self else { return nil }
    for (k, v) in entries { if case .string(let s) = k, s == key { return v } }
    return nil
  }

  /// A dict key or list index as it appears in a path.
  var pathComponent: String {
    switch self {
    case .string(let s): return s
    case .int(let i): return String(i)
    case .bool(let b): return String(b)
    case .float(let f): return String(f)
    default: return "?"
    }
  }

  /// Every tensor reachable through dicts, lists and tuples, with its path of dict keys and list
  /// indices joined by "/" (`state_dict/model.net.out.2.weight`, `optimizer_states/0/state/0/exp_avg`).
  public func tensors(prefix: String = "") -> [(path: String, tensor: Tensor)] {
    var result: [(String, Tensor)] = []
    // Iterative, so deep trees cannot exhaust the call stack.
    var pending: [(String, CheckpointValue)] = [(prefix, self)]
    while let (path, value) = pending.popLast() {
      func child(_ component: String) -> String { path.isEmpty ? component : path + "/" + component }
      switch value {
      case .tensor(let t): result.append((path, t))
      case .dict(let entries):
        for (k, v) in entries.reversed() { pending.append((child(k.pathComponent), v)) }
      case .list(let items), .tuple(let items), .set(let items):
        for (i, v) in items.enumerated().reversed() { pending.append((child(String(i)), v)) }
      default: break
      }
    }
    return result
  }
}
