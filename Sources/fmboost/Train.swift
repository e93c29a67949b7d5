import ArgumentParser
import Foundation
import Torch
import Training

/// `fmboost train --config C ...`: trains (or resumes) a CFM model.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a coupling flow matching upsampler on a folder of images.",
    discussion: """
      Any extra argument key.path=value overrides the YAML (OmegaConf dot-list), for example
      model.params.lr=1e-4 train.max_steps=500. Logs, the merged config, samples and checkpoints go
      to logs/<name>_<timestamp>/ (a resumed run continues in its own folder). SIGINT, SIGTERM and
      SIGUSR1 stop after the current step with checkpoints/interrupted.safetensors.
      """)

  @Option(help: "The YAML config (original keys).")
  var config: String

  @Option(help: "Run name (the log folder is logs/<name>_<timestamp>).")
  var name = "debug"

  @Option(help: "Folder of training images (overrides data.params.folder).")
  var data: String?

  @Option(help: "Resume a run from a training checkpoint, or 'last' for the newest run of --name.")
  var resumeCheckpoint: String?

  @Option(help: "Start from these weights (non-strict; also Lightning checkpoints of the original).")
  var loadWeights: String?

  @Option(help: "Seed (overrides train.seed).")
  var seed: Int?

  @Option(help: "Stop after this many optimiser steps in all (overrides train.max_steps).")
  var maxSteps: Int?

  @Option(help: "Folder for run folders.")
  var logs = "logs"

  @Option(help: "Intra-op threads (default: every core).")
  var threads: Int?

  @Argument(help: "Config overrides key.path=value.")
  var overrides: [String] = []

  func validate() throws {
    if resumeCheckpoint != nil && loadWeights != nil {
      throw ValidationError("--resume-checkpoint and --load-weights exclude each other")
    }
  }

  func run() throws {
    if let threads { Runtime.threads = threads }
    let tree = try ConfigTree(path: config)
    var all = overrides
    if let seed { all.append("train.seed=\(seed)") }
    if let data { all.append("data.params.folder=\(data)") }
    try tree.apply(overrides: all)
    let trainingConfig = try TrainingConfig(tree)
    guard let folder = trainingConfig.dataFolder else { throw CommandError("no training images: pass --data DIR (or data.params.folder)") }

    var resume = resumeCheckpoint
    if resume == "last" { resume = try newestLastCheckpoint() }
    let runDirectory: URL
    if let resume {
      // checkpoints/<file> inside the run folder.
      runDirectory = URL(fileURLWithPath: resume).deletingLastPathComponent().deletingLastPathComponent()
    } else {
      let formatter = DateFormatter()
      formatter.dateFormat = "yyyy-MM-dd-HH-mm-ss"
      runDirectory = URL(fileURLWithPath: logs).appendingPathComponent("\(name)_\(formatter.string(from: Date()))")
    }
    try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)

    let stop = StopSignal()
    var options = Trainer.Options(runDirectory: runDirectory, dataFolder: folder)
    options.resumeFrom = resume
    options.loadWeights = loadWeights
    options.maxSteps = maxSteps
    options.shouldStop = { stop.requested }
    let trainer = try Trainer(config: trainingConfig, yaml: try tree.yaml(), options: options)
    let summary = try trainer.run()
    print("finished at step \(summary.steps)\(summary.stoppedEarly ? " (stopped by a signal)" : ""); run folder \(runDirectory.path)")
  }

  func newestLastCheckpoint() throws -> String {
    let fm = FileManager.default
    let runs = ((try? fm.contentsOfDirectory(atPath: logs)) ?? []).filter { $0.hasPrefix(name + "_") }.sorted()
    for run in runs.reversed() {
      for file in ["last.safetensors", "interrupted.safetensors"] {
        let path = "\(logs)/\(run)/checkpoints/\(file)"
        if fm.fileExists(atPath: path) { return newer(path, than: "\(logs)/\(run)/checkpoints/interrupted.safetensors") }
      }
    }
    throw CommandError("no checkpoint to resume: no \(logs)/\(name)_*/checkpoints/last.safetensors")
  }

  /// The more recent of `last` and `interrupted`.
  func newer(_ a: String, than b: String) -> String {
    let fm = FileManager.default
    guard let da = try? fm.attributesOfItem(atPath: a)[.modificationDate] as? Date,
      let db = try? fm.attributesOfItem(atPath: b)[.modificationDate] as? Date
    else { return a }
    return db > da ? b : a
  }
}

/// Turns SIGINT, SIGTERM and SIGUSR1 into a flag the training loop reads after each step.
final class StopSignal: @unchecked Sendable {
  private let lock = NSLock()
  private var flag = false
  private var sources: [DispatchSourceSignal] = []

  init() {
    for sig in [SIGINT, SIGTERM, SIGUSR1] {
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
      source.setEventHandler { [weak self] in
        guard let self else { return }
        self.lock.lock()
        self.flag = true
        self.lock.unlock()
        FileHandle.standardError.write(Data("\nsignal \(sig): stopping after this step with an interrupted checkpoint\n".utf8))
      }
      source.resume()
      sources.append(source)
    }
  }

  var requested: Bool {
    lock.lock()
    defer { lock.unlock() }
    return flag
  }
}
