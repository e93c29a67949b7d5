import ArgumentParser
import Foundation
import Torch
import Training

/// `fmboost train --config C ...`: trains (or resumes) a CFM model.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a coupling flow matching upsampler on a folder of images.",
    discussion: paragraphs("""
      Any extra argument key.path=value overrides the YAML (OmegaConf dot-list), for example
      model.params.lr=1e-4 train.max_steps=500. Logs, the merged config, samples and checkpoints go
      to logs/<name>_<timestamp>/ (a resumed run continues in its own folder). SIGINT, SIGTERM and
      SIGUSR1 stop after the current step with checkpoints/interrupted.safetensors.

      Data-parallel: --nproc N starts N local processes (ranks); or start one process per rank
      yourself with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (and LOCAL_RANK) set, as torchrun
      does. Ranks meet through a TCP store on MASTER_ADDR:MASTER_PORT and average gradients with
      libtorch's Gloo process group; each reads its own share of every batch; rank 0 alone writes.
      """))

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

  @OptionGroup var threading: ThreadsOption
  var threads: Int? { threading.threads }

  @Option(help: "Start this many local processes for data-parallel training (each with batch_size samples per step).")
  var nproc: Int?

  @Option(help: "Seconds a rank waits for the others (rendezvous, collectives) before failing.")
  var distTimeout: Double = 300

  @Argument(help: "Config overrides key.path=value.")
  var overrides: [String] = []

  func validate() throws {
    if let nproc, nproc < 1 { throw ValidationError("--nproc must be at least 1") }
    guard distTimeout > 0 else { throw ValidationError("--dist-timeout must be positive") }
    if resumeCheckpoint != nil && loadWeights != nil {
      throw ValidationError("--resume-checkpoint and --load-weights exclude each other")
    }
  }

  func run() throws {
    let tree = try ConfigTree(path: config)
    var all = overrides
    if let seed { all.append("train.seed=\(seed)") }
    if let data { all.append("data.params.folder=\(data)") }
    try tree.apply(overrides: all)
    let trainingConfig = try TrainingConfig(tree)
    guard let folder = trainingConfig.dataFolder else { throw CommandError("no training images: pass --data DIR (or data.params.folder)") }

    let launched = ProcessInfo.processInfo.environment["RANK"] != nil
    if !launched, trainingConfig.nodes > 1 {
      throw CommandError("train.num_nodes is \(trainingConfig.nodes): start one process per rank on every node with RANK, WORLD_SIZE (= num_nodes × devices), MASTER_ADDR and MASTER_PORT set, as torchrun does")
    }
    if !launched, let processes = nproc ?? trainingConfig.devices, processes > 1 {
      return try LocalLauncher(processes: processes, threads: threads).run()
    }
    let rendezvous = try Rendezvous.fromEnvironment()
    if let rendezvous, let devices = trainingConfig.devices, nproc == nil, rendezvous.worldSize != devices * trainingConfig.nodes {
      throw CommandError("WORLD_SIZE is \(rendezvous.worldSize) but train.devices × train.num_nodes is \(devices) × \(trainingConfig.nodes)")
    }
    threading.apply()

    var resume = resumeCheckpoint
    if resume == "last" { resume = try RunFolder.newestCheckpoint(logs: logs, name: name) }
    let runDirectory: URL
    if let shared = ProcessInfo.processInfo.environment[LocalLauncher.runDirectoryVariable], resume == nil {
      runDirectory = URL(fileURLWithPath: shared)
    } else if let resume, let run = RunFolder.containing(checkpoint: resume) {
      runDirectory = run
    } else {
      runDirectory = URL(fileURLWithPath: RunFolder.new(logs: logs, name: name))
      if let resume { print("\(resume) is not inside a run folder (<run>/checkpoints/): this run writes to \(runDirectory.path)") }
    }
    let rank = rendezvous?.rank ?? 0
    if rank == 0 { try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true) }

    let stop = StopSignal()
    var options = Trainer.Options(runDirectory: runDirectory, dataFolder: folder)
    if let rendezvous {
      if rank == 0 { print("rank 0 of \(rendezvous.worldSize): waiting for the others at \(rendezvous.master):\(rendezvous.port)") }
      options.processGroup = try rendezvous.connect(timeout: distTimeout)
      if rank != 0 { options.log = { _ in } }
    }
    options.resumeFrom = resume
    options.loadWeights = loadWeights
    options.maxSteps = maxSteps
    options.shouldStop = { stop.requested }
    let trainer = try Trainer(config: trainingConfig, yaml: try tree.yaml(), options: options)
    let summary: Trainer.Summary
    do {
      summary = try trainer.run()
    } catch let error as TorchError where rendezvous != nil {
      let checkpoint = runDirectory.appendingPathComponent("checkpoints/last.safetensors").path
      throw CommandError("rank \(rank): training stopped because another rank failed, was killed or cannot be reached (\(error)); the last checkpoint is \(checkpoint)")
    }
    guard rank == 0 else { return }
    print("finished at step \(summary.steps)\(summary.stoppedEarly ? " (stopped by a signal)" : ""); run folder \(runDirectory.path)")
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
