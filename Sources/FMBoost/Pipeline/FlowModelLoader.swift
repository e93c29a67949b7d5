import Checkpoint
import Foundation
import NN
import Torch

/// Loads a CFM network from the files users have: a Lightning checkpoint of the PyTorch original
/// (online `model.net.*` or EMA `ema_model.ema_model.net.*` weights), a FlowModel state_dict
/// (`net.*`), or bare EfficientUNet weights, as `.ckpt` or safetensors.
public enum FlowModelLoader {
  public struct Loaded {
    public let flow: CouplingFlowMatching
    /// Which weights were taken ("ema", "online" or "as stored").
    public let weights: String
    /// How it upsamples: what the file records (`fmboost export`), else the original's defaults
    /// with no first stage named.
    public let recipe: UpsamplingRecipe
  }

  public static func load(_ path: String, weights choice: StateDictSelection.Weights = .ema, config: EfficientUNetConfig? = nil,
                          device: Device = .cpu) throws -> Loaded {
    let file = try TensorFile(path: path)
    var entries = try file.lazyStateDict()
    var taken = "as stored"
    let keys = Set(entries.map(\.0))
    let hasPrefix = { (prefix: String) in keys.contains { $0.hasPrefix(prefix) } }
    if hasPrefix(StateDictSelection.Weights.online.prefix) || hasPrefix(StateDictSelection.Weights.ema.prefix) {
      let selected = hasPrefix(choice.prefix) ? choice : (choice == .ema ? .online : .ema)
      entries = try StateDictSelection.strip(entries, prefix: selected.prefix, file: path)
      taken = selected.rawValue
    } else if hasPrefix("net.") {
      entries = try StateDictSelection.strip(entries, prefix: "net.", file: path)
    }
    guard let netConfig = try config ?? file.metadata["config"].map({ try WeightFile.decodeConfig(EfficientUNetConfig.self, json: Data($0.utf8), file: path) }) else {
      throw CheckpointError(file: path, "holds no architecture config (safetensors metadata `config`) and none was given")
    }
    // Built from the file's tensors in place: a safetensors file is read one tensor at a time.
    let net = try WeightFile.build(Dictionary(entries, uniquingKeysWith: { a, _ in a }), file: path, device: device) { try EfficientUNet(netConfig, $0) }
    return Loaded(flow: try CouplingFlowMatching(net: net), weights: taken, recipe: try recipe(recordedIn: file, path: path))
  }

  /// The recipe a model file records (`fmboost export`), else the original's defaults; reads no weights.
  public static func recipe(of path: String) throws -> UpsamplingRecipe { try recipe(recordedIn: TensorFile(path: path), path: path) }

  static func recipe(recordedIn file: TensorFile, path: String) throws -> UpsamplingRecipe {
    try file.metadata[UpsamplingRecipe.metadataKey].map {
      try WeightFile.decodeConfig(UpsamplingRecipe.self, json: Data($0.utf8), file: path)
    } ?? UpsamplingRecipe()
  }
}
