import Checkpoint
import FMBoost
import Foundation
import Torch

/// A LoRA file, merged into the weights as they are loaded: W' = W + scale·(α/rank)·up·down
/// (convolutions: up.flatten(1)·down.flatten(1), reshaped to W). Layouts:
/// - kohya (`lora_unet_<module>.lora_down.weight`, `.lora_up.weight`, `.alpha`; `lora_te_` for the
///   text encoder), the module path with `_` for `.`, in diffusers' or LDM's names;
/// - diffusers/peft (`unet.<module>.lora_A.weight`, `.lora_B.weight`; `text_encoder.<module>`).
/// Without an `.alpha`, α = rank (as kohya, A1111 and ComfyUI read it).
public struct LoRA {
  public let file: String
  public let scale: Double
  struct Pair {
    var down: (() throws -> Tensor)?
    var up: (() throws -> Tensor)?
    var alpha: (() throws -> Tensor)?
  }
  /// Module paths (dotted, diffusers or LDM names) → their pair, for the UNet and the text encoder.
  let unet: [String: Pair]
  let text: [String: Pair]

  /// `FILE[:SCALE]`, as `--lora` takes it (scale 1 by default).
  public init(argument: String) throws {
    if let colon = argument.lastIndex(of: ":"), let scale = Double(argument[argument.index(after: colon)...]) {
      try self.init(file: String(argument[..<colon]), scale: scale)
    } else {
      try self.init(file: argument, scale: 1)
    }
  }

  public init(file: String, scale: Double) throws {
    self.file = file
    self.scale = scale
    var unet: [String: Pair] = [:], text: [String: Pair] = [:]
    for (key, tensor) in try TensorFile(path: file).lazyStateDict() {
      guard let (part, module, role) = Self.parse(key) else {
        throw CheckpointError(file: file, "'\(key)' is not a LoRA key this tool knows (kohya lora_unet_/lora_te_ or diffusers unet./text_encoder. with lora_A/lora_B)")
      }
      func set(_ pair: inout Pair) {
        switch role {
        case .down: pair.down = tensor
        case .up: pair.up = tensor
        case .alpha: pair.alpha = tensor
        }
      }
      if part == .unet { set(&unet[module, default: Pair()]) } else { set(&text[module, default: Pair()]) }
    }
    for (module, pair) in unet.merging(text, uniquingKeysWith: { a, _ in a }) where pair.down == nil || pair.up == nil {
      throw CheckpointError(file: file, "module \(module) has \(pair.down == nil ? "no down (lora_down / lora_A)" : "no up (lora_up / lora_B)") weight")
    }
    guard !unet.isEmpty || !text.isEmpty else { throw CheckpointError(file: file, "holds no LoRA weights") }
    self.unet = unet
    self.text = text
  }

  enum Part { case unet, text }
  enum Role { case down, up, alpha }

  /// (part, dotted module path, role) of a key, or nil.
  static func parse(_ key: String) -> (Part, String, Role)? {
    let suffixes: [(String, Role)] = [(".lora_down.weight", .down), (".lora_up.weight", .up), (".lora_A.weight", .down), (".lora_B.weight", .up),
                                      (".lora.down.weight", .down), (".lora.up.weight", .up), (".alpha", .alpha)]
    guard let (suffix, role) = suffixes.first(where: { key.hasSuffix($0.0) }) else { return nil }
    let name = String(key.dropLast(suffix.count))
    for (prefix, part) in [("lora_unet_", Part.unet), ("lora_te_", .text)] where name.hasPrefix(prefix) {
      return (part, ModuleNames.dotted(String(name.dropFirst(prefix.count))), role)
    }
    for (prefix, part) in [("unet.", Part.unet), ("text_encoder.", .text), ("base_model.model.", .unet)] where name.hasPrefix(prefix) {
      return (part, String(name.dropFirst(prefix.count)), role)
    }
    return nil
  }

  /// Merges the UNet modules into LDM-named entries (diffusers names mapped as the UNet's are).
  public func mergeUNet(into entries: inout [String: () throws -> Tensor], shapes: [String: [Int]], layersPerBlock: Int) throws {
    // diffusers' up block i is output blocks i·(L+1) … i·(L+1) + L.
    let withAttention = Set(shapes.keys.compactMap { key -> Int? in
      key.hasPrefix("output_blocks.") && key.contains(".1.transformer_blocks.") ? Int(key.split(separator: ".")[1]) : nil
    }.map { $0 / (layersPerBlock + 1) })
    for (module, pair) in unet {
      let key: String
      if ["input_blocks.", "middle_block.", "output_blocks."].contains(where: module.hasPrefix) {
        key = module + ".weight"
      } else {
        do {
          key = try DiffusersUNetKeys.ldmKey(module + ".weight", layersPerBlock: layersPerBlock, upBlocksWithAttention: withAttention)
        } catch {
          throw CheckpointError(file: file, "targets UNet module \(module), which an SD1.x UNet does not have: a LoRA for another model?")
        }
      }
      try merge(pair, module: module, key: key, into: &entries, shapes: shapes)
    }
  }

  /// Merges the text-encoder modules into entries whose CLIP keys start with `prefix`
  /// (`text_model.` names in the LoRA).
  public func mergeText(into entries: inout [(String, () throws -> Tensor)], prefix: String, shapes: [String: [Int]]) throws {
    guard !text.isEmpty else { return }
    var table = Dictionary(entries, uniquingKeysWith: { a, _ in a })
    for (module, pair) in text {
      let inner = module.hasPrefix("text_model.") ? String(module.dropFirst("text_model.".count)) : module
      try merge(pair, module: module, key: prefix + inner + ".weight", into: &table, shapes: shapes)
    }
    entries = entries.map { ($0.0, table[$0.0]!) }
  }

  func merge(_ pair: Pair, module: String, key: String, into entries: inout [String: () throws -> Tensor], shapes: [String: [Int]]) throws {
    guard let base = entries[key], let shape = shapes[key] else {
      throw CheckpointError(file: file, "targets \(module) (\(key)), which this model does not have: a LoRA for another model?")
    }
    let (file, scale) = (self.file, self.scale)
    let (downTensor, upTensor) = (pair.down!, pair.up!)
    let alphaTensor = pair.alpha
    entries[key] = {
      let down = try downTensor().to(.float32), up = try upTensor().to(.float32)
      let rank = down.size(0)
      guard up.rank >= 2, up.size(1) == rank, up.elementCount / rank * (down.elementCount / rank) == shape.reduce(1, *), up.size(0) == shape[0] else {
        throw CheckpointError(file: file, "\(module): up \(up.shape) · down \(down.shape) does not make the weight's shape \(shape): a LoRA for another model?")
      }
      let alpha = try alphaTensor.map { try $0().to(.float64).item() } ?? Double(rank)
      let delta = try up.reshape([up.size(0), -1]).matmul(down.reshape([rank, -1])).reshape(shape)
      return try base().to(.float32) + delta * (scale * alpha / Double(rank))
    }
  }
}

/// kohya's underscore module names back to dotted paths: the longest known component name at each
/// position (`down_blocks_0_attentions_0_proj_in` → `down_blocks.0.attentions.0.proj_in`).
enum ModuleNames {
  static let compound = [
    "down_blocks", "up_blocks", "mid_block", "transformer_blocks", "to_q", "to_k", "to_v", "to_out", "proj_in", "proj_out",
    "time_emb_proj", "conv_shortcut", "conv_in", "conv_out", "conv_norm_out", "time_embedding", "linear_1", "linear_2",
    "input_blocks", "middle_block", "output_blocks", "in_layers", "out_layers", "emb_layers", "skip_connection", "time_embed",
    "text_model", "self_attn", "q_proj", "k_proj", "v_proj", "out_proj", "final_layer_norm", "layer_norm1", "layer_norm2",
    "token_embedding", "position_embedding",
  ].map { $0.split(separator: "_").map(String.init) }.sorted { $0.count > $1.count }

  static func dotted(_ name: String) -> String {
    let words = name.split(separator: "_").map(String.init)
    var parts: [String] = []
    var i = 0
    while i < words.count {
      if let match = compound.first(where: { i + $0.count <= words.count && Array(words[i..<i + $0.count]) == $0 }) {
        parts.append(match.joined(separator: "_"))
        i += match.count
      } else {
        parts.append(words[i])
        i += 1
      }
    }
    return parts.joined(separator: ".")
  }
}
