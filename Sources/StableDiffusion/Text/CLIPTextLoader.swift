import Checkpoint
import FMBoost
import Foundation
import NN
import Torch

/// Loads SD1.5's text encoder from the files users have: an SD single file
/// (`cond_stage_model.transformer.text_model.*`, or `cond_stage_model.transformer.*` in early
/// files), a transformers 4 `text_encoder/` weight file
/// (`text_model.*`) or a transformers 5 one (no prefix). The `position_ids` buffer is ignored.
public enum CLIPTextLoader {
  public static let prefixes = ["cond_stage_model.transformer.text_model.", "cond_stage_model.transformer.", "text_model.", ""]

  /// `heads`: from a diffusers `config.json` when there is one; else the file's `config` metadata
  /// (`num_attention_heads`), else ViT-L/14's 64 dimensions per head.
  public static func load(_ path: String, heads: Int? = nil, device: Device = .cpu) throws -> CLIPTextModel {
    let file = try TensorFile(path: path)
    let metadataHeads = file.metadata["config"].flatMap { try? JSONDecoder().decode(CLIPTextConfig.self, from: Data($0.utf8)).numAttentionHeads }
    return try build(file.lazyStateDict(), shapes: file.shapes(),
                     heads: heads ?? (file.metadata["config"]?.contains("num_attention_heads") == true ? metadataHeads : nil), file: path, device: device)
  }

  /// The text encoder from a file's tensors (any of `prefixes`; other keys are not looked at).
  public static func build(_ all: [(String, () throws -> Tensor)], shapes allShapes: [String: [Int]], heads: Int?, file path: String, device: Device = .cpu) throws -> CLIPTextModel {
    guard let prefix = prefix(in: allShapes) else {
      throw CheckpointError(file: path, "holds no CLIP text encoder (no embeddings.token_embedding.weight under \(prefixes.dropLast().joined(separator: " or ")) or at the top level)")
    }
    var entries = prefix.isEmpty ? all : try StateDictSelection.strip(all, prefix: prefix, file: path)
    entries.removeAll { $0.0 == "embeddings.position_ids" }
    let shapes = Dictionary(try StateDictSelection.strip(Array(allShapes), prefix: prefix, file: path), uniquingKeysWith: { a, _ in a })
    let config = try inferConfig(shapes, heads: heads, file: path)
    return try WeightFile.build(Dictionary(entries, uniquingKeysWith: { a, _ in a }), file: path, device: device) { try CLIPTextModel(config, $0) }
  }

  /// Which of `prefixes` the text encoder's keys are under, if any.
  public static func prefix(in shapes: [String: [Int]]) -> String? {
    prefixes.first { shapes[$0 + "embeddings.token_embedding.weight"] != nil }
  }

  /// The architecture from the tensors' shapes (heads are not in them).
  static func inferConfig(_ shapes: [String: [Int]], heads: Int?, file: String) throws -> CLIPTextConfig {
    guard let token = shapes["embeddings.token_embedding.weight"], token.count == 2,
      let position = shapes["embeddings.position_embedding.weight"], position.count == 2,
      let fc1 = shapes["encoder.layers.0.mlp.fc1.weight"], fc1.count == 2
    else { throw CheckpointError(file: file, "the CLIP text encoder's embeddings or first layer are missing or not matrices") }
    var c = CLIPTextConfig()
    c.vocabSize = token[0]
    c.hiddenSize = token[1]
    c.maxPositionEmbeddings = position[0]
    c.intermediateSize = fc1[0]
    c.numHiddenLayers = (0...).first { shapes["encoder.layers.\($0).layer_norm1.weight"] == nil }!
    c.numAttentionHeads = heads ?? max(1, c.hiddenSize / 64)
    return c
  }
}
