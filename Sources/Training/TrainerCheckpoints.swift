import Checkpoint
import FMBoost
import Foundation
import NN
import Torch

/// Checkpoints: saving (atomic; a failed save stops the run), resuming exactly, and loading weights.
extension Trainer {
  func saveCheckpoint(_ name: String) throws {
    let url = checkpointDirectory.appendingPathComponent(name + ".safetensors")
    do {
      try TrainingCheckpoint.save(to: url, step: step, flow: flow, ema: ema, optimizer: optimizer, netConfig: config.net, trainingYAML: yaml)
    } catch {
      // Training on without checkpoints would lose the work; the write is atomic, so the previous
      // checkpoint is intact.
      throw TrainingError.checkpointFailed(url.path, step: step, reason: "\(error)")
    }
  }

  /// Fails unless a file can be created in `directory` (before hours of training, not after).
  static func requireWritable(_ directory: URL) throws {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw TrainingError.checkpointFolder(directory.path, reason: (error as NSError).localizedDescription)
    }
    let probe = directory.appendingPathComponent(".write-test-\(ProcessInfo.processInfo.processIdentifier)")
    guard FileManager.default.createFile(atPath: probe.path, contents: Data("ok".utf8)) else {
      throw TrainingError.checkpointFolder(directory.path, reason: "no file can be created there")
    }
    try? FileManager.default.removeItem(at: probe)
  }



  func restore(_ path: String) throws {
    let contents = try TrainingCheckpoint.load(path)
    do {
      try flow.load(stateDict: TrainingCheckpoint.section(contents.tensors, "model."), strict: true)
      try emaFlow.load(stateDict: TrainingCheckpoint.section(contents.tensors, "ema_model.ema_model."), strict: true)
    } catch let error as StateDictError {
      throw CheckpointError(file: path, "does not match this config's network: \(error)")
    }
    try ema.restore(bookkeeping: TrainingCheckpoint.section(contents.tensors, "ema_model."))
    try optimizer.load(stateDict: TrainingCheckpoint.section(contents.tensors, "optimizer."))
    step = contents.step
    options.log("resumed from \(path) at step \(step)")
  }

  /// Non-strict weights (ours, a Lightning checkpoint of the original, or bare network weights).
  func loadWeights(_ path: String) throws {
    let stateDict = try WeightFile.stateDict(path)
    let keys = Set(stateDict.keys)
    let online: [String: Tensor]
    if keys.contains(where: { $0.hasPrefix("model.net.") }) {
      online = TrainingCheckpoint.section(stateDict, "model.")
    } else if keys.contains(where: { $0.hasPrefix("net.") }) {
      online = stateDict
    } else {
      online = Dictionary(uniqueKeysWithValues: stateDict.map { ("net." + $0.key, $0.value) })
    }
    let report = try flow.load(stateDict: online, strict: false)
    let emaWeights = TrainingCheckpoint.section(stateDict, "ema_model.ema_model.")
    try emaFlow.load(stateDict: emaWeights.isEmpty ? Dictionary(uniqueKeysWithValues: flow.stateDict()) : emaWeights, strict: false)
    options.log("loaded weights from \(path): \(report.isClean ? "every key matched" : report.description)")
  }
}
