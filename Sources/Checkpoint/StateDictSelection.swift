import Torch

/// Choosing and renaming the weights inside checkpoints.
public enum StateDictSelection {
  /// Where FMBoost's Lightning checkpoints keep the flow network's weights.
  public enum Weights: String, Sendable, CaseIterable {
    /// The online (trained) network: `model.net.*`.
    case online
    /// The exponential moving average: `ema_model.ema_model.net.*` (what sampling should use).
    case ema

    public var prefix: String {
      switch self {
      case .online: return "model.net."
      case .ema: return "ema_model.ema_model.net."
      }
    }
  }

  /// The entries whose key starts with `prefix`, with the prefix removed. Fails, naming the
  /// prefixes present, when no key has it.
  public static func strip<T>(_ tensors: [(String, T)], prefix: String, file: String) throws -> [(String, T)] {
    let selected = tensors.compactMap { key, t in key.hasPrefix(prefix) ? (String(key.dropFirst(prefix.count)), t) : nil }
    guard !selected.isEmpty else {
      let roots = Set(tensors.map(\.0).map { key -> String in
        let parts = key.split(separator: ".")
        return parts.prefix(parts.count > 2 ? 2 : 1).joined(separator: ".") + "."
      }).sorted()
      throw CheckpointError(file: file, "no tensor key starts with '\(prefix)' (prefixes present: \(roots.prefix(12).joined(separator: ", ")))")
    }
    return selected
  }
}

extension TorchCheckpoint {
  /// The flat state_dict: the `state_dict` entry when the root has one (Lightning checkpoints and
  /// nested `sd_ae.ckpt` files), else the root dict itself (flat `sd_ae.ckpt`, `.pth` files).
  /// Non-tensor entries are left out.
  public func stateDict() throws -> [(String, Tensor)] {
    let dict = root["state_dict"] ?? root
    guard case .dict(let entries) = dict else {
      throw CheckpointError(file: path, "holds no state_dict (its top level is not a dict)")
    }
    return entries.compactMap { key, value in
      guard case .string(let name) = key, case .tensor(let t) = value else { return nil }
      return (name, t)
    }
  }
}
