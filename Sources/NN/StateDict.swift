import Torch

/// Problems found while loading a state_dict, all reported together.
public struct StateDictReport: Sendable, Equatable, CustomStringConvertible {
  public var missing: [String] = []
  public var unexpected: [String] = []
  /// Keys present on both sides with different shapes: (key, expected, found).
  public var mismatched: [ShapeMismatch] = []

  public struct ShapeMismatch: Sendable, Equatable {
    public let key: String
    public let expected: [Int]
    public let found: [Int]

    public init(key: String, expected: [Int], found: [Int]) {
      self.key = key
      self.expected = expected
      self.found = found
    }
  }

  public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

  public var description: String {
    var lines: [String] = []
    func list(_ keys: [String]) -> String {
      keys.prefix(20).joined(separator: ", ") + (keys.count > 20 ? ", … (\(keys.count) in all)" : "")
    }
    if !missing.isEmpty { lines.append("missing keys (\(missing.count)): \(list(missing))") }
    if !unexpected.isEmpty { lines.append("unexpected keys (\(unexpected.count)): \(list(unexpected))") }
    for m in mismatched.prefix(20) {
      lines.append("shape mismatch for \(m.key): the model has \(m.expected), the file has \(m.found)")
    }
    return lines.isEmpty ? "all keys matched" : lines.joined(separator: "\n")
  }
}

/// A strict load found missing, unexpected or mismatched keys.
public struct StateDictError: Error, CustomStringConvertible {
  public let report: StateDictReport
  public var description: String { "state_dict does not match the model:\n\(report)" }
}

extension Module {
  /// Parameters and buffers by their PyTorch key, in registration order.
  public func stateDict() -> [(String, Tensor)] {
    namedSlots().map { ($0.0, $0.1.value) }
  }

  /// Loads tensors by key. Shapes must match; values are converted to each slot's dtype.
  ///
  /// With `strict`, any missing, unexpected or shape-mismatched key fails the whole load before
  /// anything is changed, and the error lists every problem at once. Without it, matching keys are
  /// loaded and the report says what was skipped.
  @discardableResult
  public func load(stateDict: [String: Tensor], strict: Bool = true) throws -> StateDictReport {
    let slots = namedSlots()
    var report = StateDictReport()
    var known = Set<String>()
    var assignments: [(Parameter, Tensor)] = []
    for (key, slot) in slots {
      known.insert(key)
      guard let tensor = stateDict[key] else {
        report.missing.append(key)
        continue
      }
      let expected = slot.value.shape
      guard tensor.shape == expected else {
        report.mismatched.append(.init(key: key, expected: expected, found: tensor.shape))
        continue
      }
      assignments.append((slot, tensor))
    }
    report.unexpected = stateDict.keys.filter { !known.contains($0) }.sorted()
    if strict && !report.isClean { throw StateDictError(report: report) }
    try withNoGrad {
      for (slot, tensor) in assignments {
        // A copy, as PyTorch's param.copy_(): two modules loaded from one dict never share storage.
        let (wanted, device) = (slot.value.dtype, slot.value.device)
        let value = tensor.device != device ? try tensor.to(wanted).to(device) : tensor.dtype == wanted ? try tensor.clone() : try tensor.to(wanted)
        if slot.value.requiresGrad { try value.requiresGrad(true) }
        slot.value = value
      }
    }
    return report
  }
}
