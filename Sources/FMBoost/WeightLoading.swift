import Checkpoint
import Foundation
import NN
import Torch

/// Loading weights from the files users bring (safetensors, `.ckpt`, `.pth`), with errors that
/// name the file.
public enum WeightFile {
  /// The flat state_dict of any supported file (see `TensorFile.stateDict()`), optionally only the
  /// keys under `prefix`, with the prefix removed.
  public static func stateDict(_ path: String, prefix: String? = nil) throws -> [String: Tensor] {
    var entries = try TensorFile(path: path).stateDict()
    if let prefix { entries = try StateDictSelection.strip(entries, prefix: prefix, file: path) }
    return Dictionary(entries, uniquingKeysWith: { first, _ in first })
  }

  /// The architecture stored as JSON under the safetensors metadata key `config` (as the golden
  /// fixtures and `fmboost` itself write it), or nil when there is none.
  public static func config<C: Decodable>(_ type: C.Type, in path: String) throws -> C? {
    let file = try TensorFile(path: path)
    guard let json = file.metadata["config"] else { return nil }
    return try decodeConfig(type, json: Data(json.utf8), file: path)
  }

  /// Reads a config from a JSON file (the original constructor arguments).
  public static func config<C: Decodable>(_ type: C.Type, jsonFile path: String) throws -> C {
    guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError(file: path, "cannot read the file") }
    return try decodeConfig(type, json: data, file: path)
  }

  /// Decodes a config from JSON, naming the file on failure.
  public static func decodeConfig<C: Decodable>(_ type: C.Type, json: Data, file: String) throws -> C {
    do {
      return try JSONDecoder().decode(type, from: json)
    } catch {
      throw CheckpointError(file: file, "its \(type) metadata is not valid: \(error)")
    }
  }
}

extension Module {
  /// Loads weights from a file; a strict mismatch names the file and lists every problem.
  @discardableResult
  public func loadWeights(from path: String, prefix: String? = nil, strict: Bool = true) throws -> StateDictReport {
    let stateDict = try WeightFile.stateDict(path, prefix: prefix)
    do {
      return try load(stateDict: stateDict, strict: strict)
    } catch let error as StateDictError {
      throw CheckpointError(file: path, "\(error)")
    }
  }
}

extension WeightFile {
  /// Builds a network from the tensors of `file` by key (`make` builds it in the scope it is
  /// given), strictly: a missing, unexpected or mismatched key fails, naming the file and listing
  /// every problem. The network is returned in evaluation mode, its tensors on `device` (each
  /// placed there as it is read).
  public static func build<M: Module>(_ tensors: [String: () throws -> Tensor], file: String, device: Device = .cpu,
                                      _ make: (ModuleScope) throws -> M) throws -> M {
    let source = ParameterSource.weights(tensors, device: device)
    let module = try make(source.root)
    do {
      try source.finish(module, strict: true)
    } catch let error as StateDictError {
      throw CheckpointError(file: file, "\(error)")
    }
    module.eval()
    return module
  }

  /// The same from a state_dict in memory.
  public static func build<M: Module>(_ stateDict: [String: Tensor], file: String, device: Device = .cpu,
                                      _ make: (ModuleScope) throws -> M) throws -> M {
    try build(stateDict.mapValues { tensor in { tensor } }, file: file, device: device, make)
  }
}
