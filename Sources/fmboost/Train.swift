import ArgumentParser
import Foundation
import Training

/// `fmboost train --config C ...`: trains (or resumes) a CFM model.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a coupling flow matching upsampler on a folder of images.",
    discussion: paragraphs("""
      Any extra argument key.path=value overrides the YAML (OmegaConf dot-list), for example model.params.lr=1e-4 train.max_steps=500. Logs, the
      merged config, samples and checkpoints go to logs/<name>_<timestamp>/ (a resumed run continues in its own folder). SIGINT, SIGTERM and SIGUSR1
      stop after the current step with checkpoints/interrupted.safetensors.

      Data-parallel: --nproc N starts N local processes (ranks); or start one process per rank yourself with RANK, WORLD_SIZE, MASTER_ADDR,
      MASTER_PORT (and LOCAL_RANK) set, as torchrun does. Ranks meet through a TCP store on MASTER_ADDR:MASTER_PORT and average gradients with
      libtorch's Gloo process group; each reads its own share of every batch; rank 0 alone writes.
      """))

  @Option(help: "The YAML config (original keys).") var config: String
  @Option(help: "Run name (the log folder is logs/<name>_<timestamp>).") var name = "debug"
  @Option(help: "Folder of training images (overrides data.params.folder).") var data: String?
  @Option(help: "Resume a run from a training checkpoint, or 'last' for the newest run of --name.") var resumeCheckpoint: String?
  @Option(help: "Start from these weights (non-strict; also Lightning checkpoints of the original).") var loadWeights: String?
  @Option(help: "Seed (overrides train.seed).") var seed: Int?
  @Option(help: "Stop after this many optimiser steps in all (overrides train.max_steps).") var maxSteps: Int?
  @Option(help: "Folder for run folders.") var logs = "logs"
  @OptionGroup var threading: ThreadsOption
  @OptionGroup var placement: DeviceOption
  @Option(help: "Start this many local processes for data-parallel training (each with batch_size samples per step).") var nproc: Int?
  @Option(help: "Seconds a rank waits for the others (rendezvous, collectives) before failing.") var distTimeout: Double = 300
  @Argument(help: "Config overrides key.path=value.") var overrides: [String] = []

  func validate() throws {
    if let nproc, nproc < 1 { throw ValidationError("--nproc must be at least 1") }
    guard distTimeout > 0 else { throw ValidationError("--dist-timeout must be positive") }
    if resumeCheckpoint != nil && loadWeights != nil { throw ValidationError("--resume-checkpoint and --load-weights exclude each other") }
  }

  func run() throws {
    let tree = try ConfigTree(path: config)
    // Options that change the run go into the config, so the run folder's config.yaml reproduces it.
    let options = [seed.map { "train.seed=\($0)" }, data.map { "data.params.folder=\($0)" }, maxSteps.map { "train.max_steps=\($0)" },
                   nproc.map { "train.devices=\($0)" }].compactMap { $0 }
    try tree.apply(overrides: overrides + options)
    var launch = TrainingLaunch(config: try TrainingConfig(tree), yaml: try tree.yaml())
    guard launch.config.dataFolder != nil else { throw CommandError("no training images: pass --data DIR (or data.params.folder)") }
    (launch.name, launch.logs, launch.resume, launch.loadWeights) = (name, logs, resumeCheckpoint, loadWeights)
    (launch.timeout, launch.threads, launch.device) = (distTimeout, threading.threads, try placement.resolve())
    launch.rankArguments = { threads in Array(CommandLine.arguments.dropFirst()) + ["--threads", String(threads)] }
    if ProcessInfo.processInfo.environment["RANK"] != nil || (launch.config.devices ?? 1) <= 1 { threading.apply() }
    if case .trained(let summary, let runDirectory) = try launch.run(log: { print($0) }) {
      print("finished at step \(summary.steps)\(summary.stoppedEarly ? " (stopped by a signal)" : ""); run folder \(runDirectory.path)")
    }
  }
}
