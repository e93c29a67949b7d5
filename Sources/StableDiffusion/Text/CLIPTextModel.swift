import FMBoost
import NN
import Torch

/// The shape of a CLIP text transformer (transformers' `CLIPTextConfig` names).
public struct CLIPTextConfig: Codable, Equatable, Sendable {
  public var vocabSize = 49408
  public var hiddenSize = 768
  public var intermediateSize = 3072
  public var numAttentionHeads = 12
  public var numHiddenLayers = 12
  public var maxPositionEmbeddings = 77
  public var layerNormEps = 1e-5

  public init() {}

  /// SD1.5's text encoder, OpenAI's CLIP ViT-L/14.
  public static let vitL14 = CLIPTextConfig()

  enum CodingKeys: String, CodingKey {
    case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
    case numAttentionHeads = "num_attention_heads", numHiddenLayers = "num_hidden_layers"
    case maxPositionEmbeddings = "max_position_embeddings", layerNormEps = "layer_norm_eps"
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = CLIPTextConfig()
    vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
    hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
    intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
    numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
    numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
    maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? d.maxPositionEmbeddings
    layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? d.layerNormEps
  }
}

/// CLIP's text transformer as SD1.5 runs it (transformers' `CLIPTextModel`, keys under
/// `text_model.`): token + position embeddings, pre-norm layers of causal self-attention and a
/// quick-GELU MLP, the final LayerNorm. No padding mask: SD1.5 passes none.
public final class CLIPTextModel: Module {
  public let config: CLIPTextConfig
  let tokenEmbedding: Embedding
  let positionEmbedding: Embedding
  let layers: ModuleList<CLIPEncoderLayer>
  let finalLayerNorm: LayerNorm

  public init(_ config: CLIPTextConfig, _ p: ModuleScope) throws {
    guard config.numAttentionHeads > 0, config.hiddenSize % config.numAttentionHeads == 0 else {
      throw TorchError.invalidArgument("CLIP text model: hidden size \(config.hiddenSize) does not split into \(config.numAttentionHeads) heads")
    }
    self.config = config
    tokenEmbedding = try Embedding(p["embeddings.token_embedding"], count: config.vocabSize, dim: config.hiddenSize)
    positionEmbedding = try Embedding(p["embeddings.position_embedding"], count: config.maxPositionEmbeddings, dim: config.hiddenSize)
    let layerScope = p["encoder.layers"]
    layers = ModuleList(layerScope, try (0..<config.numHiddenLayers).map { try CLIPEncoderLayer(layerScope[$0], config) })
    finalLayerNorm = try LayerNorm(p["final_layer_norm"], [config.hiddenSize], eps: config.layerNormEps)
    super.init(p)
  }

  /// The hidden states of (B, L) token ids: the embeddings, then each layer's output
  /// (numHiddenLayers + 1 tensors of (B, L, hidden)), before the final LayerNorm.
  public func hiddenStates(_ ids: Tensor) throws -> [Tensor] {
    let length = ids.size(1)
    guard ids.rank == 2, length <= config.maxPositionEmbeddings else {
      throw TorchError.invalidArgument("CLIP text model: ids must be (batch, ≤ \(config.maxPositionEmbeddings)), got \(ids.shape)")
    }
    let positions = try positionEmbedding.weight.value.narrow(dim: 0, start: 0, length: length).unsqueeze(dim: 0)
    var h = try tokenEmbedding(ids) + positions
    let mask = try Self.causalMask(length).placed(on: h.device)
    var states = [h]
    for layer in layers.items {
      h = try layer(h, mask: mask)
      states.append(h)
    }
    return states
  }

  /// The conditioning SD1.5 takes: the final LayerNorm of the last layer's output, or with
  /// `clipSkip` n > 1 of the n-th from last (A1111's "clip skip").
  public func callAsFunction(_ ids: Tensor, clipSkip: Int = 1) throws -> Tensor {
    guard (1...config.numHiddenLayers).contains(clipSkip) else {
      throw TorchError.invalidArgument("clip skip must be 1…\(config.numHiddenLayers), got \(clipSkip)")
    }
    let states = try hiddenStates(ids)
    return try finalLayerNorm(states[states.count - clipSkip])
  }

  /// 0 on and below the diagonal, the float minimum above it (as transformers builds it).
  static func causalMask(_ length: Int) throws -> Tensor {
    var values = [Float](repeating: 0, count: length * length)
    for i in 0..<length { for j in (i + 1)..<max(i + 1, length) { values[i * length + j] = -Float.greatestFiniteMagnitude } }
    return try Tensor(values, shape: [1, 1, length, length])
  }
}

/// x + attn(ln1(x)), then x + mlp(ln2(x)).
final class CLIPEncoderLayer: Module {
  let layerNorm1: LayerNorm, layerNorm2: LayerNorm
  let q: Linear, k: Linear, v: Linear, out: Linear
  let fc1: Linear, fc2: Linear
  let heads: Int

  init(_ p: ModuleScope, _ c: CLIPTextConfig) throws {
    heads = c.numAttentionHeads
    // The attention's and the MLP's projections under their full names (`self_attn.q_proj`).
    q = try Linear(p["self_attn.q_proj"], c.hiddenSize, c.hiddenSize)
    k = try Linear(p["self_attn.k_proj"], c.hiddenSize, c.hiddenSize)
    v = try Linear(p["self_attn.v_proj"], c.hiddenSize, c.hiddenSize)
    out = try Linear(p["self_attn.out_proj"], c.hiddenSize, c.hiddenSize)
    layerNorm1 = try LayerNorm(p["layer_norm1"], [c.hiddenSize], eps: c.layerNormEps)
    fc1 = try Linear(p["mlp.fc1"], c.hiddenSize, c.intermediateSize)
    fc2 = try Linear(p["mlp.fc2"], c.intermediateSize, c.hiddenSize)
    layerNorm2 = try LayerNorm(p["layer_norm2"], [c.hiddenSize], eps: c.layerNormEps)
    super.init(p)
  }

  func callAsFunction(_ x: Tensor, mask: Tensor) throws -> Tensor {
    let (b, l, width) = (x.size(0), x.size(1), x.size(2))
    let d = width / heads
    func split(_ t: Tensor) throws -> Tensor { try t.reshape([b, l, heads, d]).transpose(1, 2) }
    let normed = try layerNorm1(x)
    let scores = try split(q(normed)).matmul(split(k(normed)).transpose(-2, -1)) * (1 / Double(d).squareRoot()) + mask
    let attended = try scores.softmax(dim: -1).matmul(split(v(normed))).transpose(1, 2).reshape([b, l, width])
    let h = try x + out(attended)
    let hidden = try fc1(layerNorm2(h))
    return try h + fc2(hidden * (hidden * 1.702).sigmoid())
  }
}
