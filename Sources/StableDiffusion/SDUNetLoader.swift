import Checkpoint
import FMBoost
import Foundation
import Torch

/// An SD UNet from a file of its own (`forward sd-unet`, `forward sd-sample`): LDM names, with or
/// without `model.diffusion_model.`, or the diffusers layout. The shape comes from a diffusers
/// config — a `config.json` beside the file, or the file's `config` metadata (itself or under
/// `diffusers`) — else from the LDM tensors' shapes.
public enum SDUNetLoader {
  public static func load(_ path: String, loras: [LoRA] = [], heads: Int = 8, device: Device = .cpu) throws -> SDUNet {
    let file = try TensorFile(path: path)
    var shapes = try file.shapes()
    var entries = try file.lazyStateDict()
    let prefix = "model.diffusion_model."
    if shapes.keys.contains(where: { $0.hasPrefix(prefix) }) {
      entries = try StateDictSelection.strip(entries, prefix: prefix, file: path)
      shapes = try strip(shapes, prefix: prefix, file: path)
    }
    let config: SDUNetConfig
    if let json = try diffusersConfig(file) {
      try StableDiffusionFamily.checkDiffusersUNet(json, file: path)
      config = try SDUNetConfig(diffusers: json, source: path)
    } else {
      config = try SDUNetConfig(ldmShapes: shapes, heads: heads, file: path)
    }
    return try build(Dictionary(entries, uniquingKeysWith: { a, _ in a }), shapes: shapes, config: config, loras: loras, file: path, device: device)
  }

  /// The UNet from its tensors (LDM or diffusers names, no prefix), the LoRAs merged as they load.
  static func build(_ tensors: [String: () throws -> Tensor], shapes tensorShapes: [String: [Int]], config: SDUNetConfig, loras: [LoRA],
                    file: String, device: Device = .cpu) throws -> SDUNet {
    var (entries, shapes) = (tensors, tensorShapes)
    if DiffusersUNetKeys.isDiffusersLayout(shapes.keys) {
      entries = try DiffusersUNetKeys.toLDM(entries, layersPerBlock: config.numResBlocks)
      shapes = try DiffusersUNetKeys.toLDM(shapes, layersPerBlock: config.numResBlocks)
    }
    for lora in loras { try lora.mergeUNet(into: &entries, shapes: shapes, layersPerBlock: config.numResBlocks) }
    return try WeightFile.build(entries, file: file, device: device) { try SDUNet(config, $0) }
  }

  /// The shapes of the keys under `prefix`, the prefix removed.
  static func strip(_ shapes: [String: [Int]], prefix: String, file: String) throws -> [String: [Int]] {
    Dictionary(try StateDictSelection.strip(Array(shapes), prefix: prefix, file: file), uniquingKeysWith: { a, _ in a })
  }

  static func diffusersConfig(_ file: TensorFile) throws -> [String: Any]? {
    let beside = ((file.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("config.json")
    if let data = FileManager.default.contents(atPath: beside), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
       json["block_out_channels"] != nil {
      return json
    }
    guard let text = file.metadata["config"], let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
    return json["block_out_channels"] != nil ? json : json["diffusers"] as? [String: Any]
  }
}
