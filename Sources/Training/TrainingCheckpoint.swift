import Checkpoint
import FMBoost
import Foundation
import NN
import Torch

/// Training checkpoints as safetensors (no pickle), with the Lightning key names of the original
/// (`model.net.*`, `ema_model.ema_model.net.*`, `ema_model.step`, `ema_model.initted`) plus
/// `optimizer.<parameter>.{exp_avg, exp_avg_sq, step}`; metadata holds the step, the network's
/// architecture (`config`, so `fmboost upsample --model` reads it) and the training config.
/// Written atomically: a crash or a full disk leaves the previous file intact.
public enum TrainingCheckpoint {
  public static let format = "fmboost-train-1"

  public struct Contents {
    public let step: Int
    public let tensors: [String: Tensor]
    public let metadata: [String: String]
  }

  static func save(
    to url: URL, step: Int, flow: CouplingFlowMatching, ema: EMA, optimizer: Adam, netConfig: EfficientUNetConfig, trainingYAML: String
  ) throws {
    var tensors: [(String, Tensor)] = flow.stateDict().map { ("model." + $0.0, $0.1) }
    tensors += ema.shadow.stateDict().map { ("ema_model.ema_model." + $0.0, $0.1) }
    tensors += try ema.bookkeeping().map { ("ema_model." + $0.key, $0.value) }
    tensors += try optimizer.stateDict().map { ("optimizer." + $0.key, $0.value) }
    let config = String(decoding: try JSONEncoder().encode(netConfig), as: UTF8.self)
    try SafeTensors.write(
      try tensors.map { ($0.0, try $0.1.detach().contiguous()) },
      metadata: ["format": format, "step": String(step), "config": config, "training_config": trainingYAML], to: url)
  }

  public static func load(_ path: String) throws -> Contents {
    let file = try SafeTensorsFile(path: path)
    guard file.metadata["format"] == format, let step = file.metadata["step"].flatMap(Int.init) else {
      throw CheckpointError(file: path, "not a training checkpoint written by fmboost train (other weight files can start a run as its initial weights, not resume one)")
    }
    return Contents(step: step, tensors: try file.tensors(), metadata: file.metadata)
  }

  /// The entries under `prefix`, without it.
  static func section(_ tensors: [String: Tensor], _ prefix: String) -> [String: Tensor] {
    Dictionary(uniqueKeysWithValues: tensors.compactMap { key, t in key.hasPrefix(prefix) ? (String(key.dropFirst(prefix.count)), t) : nil })
  }
}
