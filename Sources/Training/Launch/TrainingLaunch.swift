import Foundation
import Torch

/// `fmboost train` as a library call: one process, `train.devices` local ranks (`LocalLauncher`), or
/// one rank of a group started as torchrun starts them (`Rendezvous`); the run folder chosen (a
/// resumed run goes on in its own), signals turned into a stop after the current step, and rank 0
/// alone writing. Everything that changes the run is in `config` (and `yaml`, saved with the run).
public struct TrainingLaunch {
  public let config: TrainingConfig
  /// The merged config as YAML, saved with the run.
  public let yaml: String
  public var name = "debug"
  public var logs = "logs"
  /// A training checkpoint to resume, or "last" for the newest of `name`.
  public var resume: String?
  public var loadWeights: String?
  /// Seconds a rank waits for the others.
  public var timeout: Double = 300
  /// The arguments a local rank is started with, given the threads it takes.
  public var rankArguments: (_ threads: Int) -> [String] = { _ in [] }
  public var threads: Int?
  /// Where each rank trains; with several ranks on CUDA, rank r of a machine takes cuda:LOCAL_RANK.
  public var device: Device = .cpu

  public init(config: TrainingConfig, yaml: String) {
    self.config = config
    self.yaml = yaml
  }

  public enum Outcome {
    /// This process trained (rank 0 of a group, or alone).
    case trained(Trainer.Summary, runDirectory: URL)
    /// Its ranks trained, or it was a rank other than 0.
    case ranksFinished
  }

  public func run(log: @escaping (String) -> Void) throws -> Outcome {
    guard let folder = config.dataFolder else { throw LaunchError("no training images: data.params.folder is not set") }
    let launched = ProcessInfo.processInfo.environment["RANK"] != nil
    if !launched, config.nodes > 1 {
      throw LaunchError("train.num_nodes is \(config.nodes): start one process per rank on every node with RANK, WORLD_SIZE (= num_nodes × devices), MASTER_ADDR and MASTER_PORT set, as torchrun does")
    }
    if !launched, let processes = config.devices, processes > 1 {
      let perRank = threads ?? LocalLauncher.threadsPerRank(processes)
      log("\(processes) ranks, \(perRank) thread\(perRank == 1 ? "" : "s") each")
      let shared = resume == nil ? RunFolder.new(logs: logs, name: name) : nil
      try LocalLauncher(processes: processes, arguments: rankArguments(perRank), runDirectory: shared).run(log: log)
      return .ranksFinished
    }
    let rendezvous = try Rendezvous.fromEnvironment()
    if let rendezvous, let devices = config.devices, rendezvous.worldSize != devices * config.nodes {
      throw LaunchError("WORLD_SIZE is \(rendezvous.worldSize) but train.devices × train.num_nodes is \(devices) × \(config.nodes)")
    }
    let resume = try self.resume == "last" ? RunFolder.newestCheckpoint(logs: logs, name: name) : self.resume
    let runDirectory: URL
    if let shared = ProcessInfo.processInfo.environment[LocalLauncher.runDirectoryVariable], resume == nil {
      runDirectory = URL(fileURLWithPath: shared)
    } else if let resume, let run = RunFolder.containing(checkpoint: resume) {
      runDirectory = run
    } else {
      runDirectory = URL(fileURLWithPath: RunFolder.new(logs: logs, name: name))
      if let resume { log("\(resume) is not inside a run folder (<run>/checkpoints/): this run writes to \(runDirectory.path)") }
    }
    let rank = rendezvous?.rank ?? 0
    if rank == 0 { try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true) }

    let stop = StopSignal()
    var options = Trainer.Options(runDirectory: runDirectory, dataFolder: folder)
    options.log = log
    if let rendezvous {
      if rank == 0 { log("rank 0 of \(rendezvous.worldSize): waiting for the others at \(rendezvous.master):\(rendezvous.port)") }
      options.processGroup = try rendezvous.connect(timeout: timeout)
      if rank != 0 { options.log = { _ in } }
    }
    (options.resumeFrom, options.loadWeights) = (resume, loadWeights)
    options.device = device
    if case .cuda = device, rendezvous != nil, let local = ProcessInfo.processInfo.environment["LOCAL_RANK"].flatMap(Int.init) {
      options.device = .cuda(local)
    }
    options.shouldStop = { stop.requested }
    let trainer = try Trainer(config: config, yaml: yaml, options: options)
    do {
      let summary = try trainer.run()
      return rank == 0 ? .trained(summary, runDirectory: runDirectory) : .ranksFinished
    } catch let error as TorchError where rendezvous != nil {
      let checkpoint = runDirectory.appendingPathComponent("checkpoints/last.safetensors").path
      throw LaunchError("rank \(rank): training stopped because another rank failed, was killed or cannot be reached (\(error)); the last checkpoint is \(checkpoint)")
    }
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
        self.lock.withLock { self.flag = true }
        FileHandle.standardError.write(Data("\nsignal \(sig): stopping after this step with an interrupted checkpoint\n".utf8))
      }
      source.resume()
      sources.append(source)
    }
  }

  var requested: Bool { lock.withLock { flag } }
}
