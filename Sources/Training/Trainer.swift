import Checkpoint
import Evaluation
import FileSupport
import FMBoost
import Foundation
import Imaging
import NN
import Torch

/// The training loop of the original (its Lightning module and trainer) on one process: per micro-batch the batch
/// contract (image → latent, low-res image → PSU/upsampled context), noise augmentation, the flow
/// matching loss, the EMA update before backward; Adam with the warm-up schedule, gradient
/// accumulation and clipping; validation, CSV and TensorBoard logs, checkpoints and exact resume.
public final class Trainer {
  public struct Options {
    public var runDirectory: URL
    public var dataFolder: String
    public var resumeFrom: String?
    public var loadWeights: String?
    public var maxSteps: Int?
    /// Asked after every step; true stops the run with an `interrupted` checkpoint.
    public var shouldStop: () -> Bool = { false }
    /// Data-parallel training: this process is one rank of the group (nil: the only process).
    public var processGroup: ProcessGroup?
    /// Where the networks train; the data are read on the CPU and moved there batch by batch.
    public var device: Device = .cpu
    public var log: (String) -> Void = { print($0) }

    public init(runDirectory: URL, dataFolder: String) {
      self.runDirectory = runDirectory
      self.dataFolder = dataFolder
    }
  }

  public struct Summary {
    public let steps: Int
    public let losses: [Double]
    public let stoppedEarly: Bool
  }

  let config: TrainingConfig
  let yaml: String
  let options: Options
  /// The online network and its EMA shadow.
  public let flow: CouplingFlowMatching
  public let emaFlow: CouplingFlowMatching
  public let ema: EMA
  let optimizer: Adam
  let pixelSpace: PixelSpace
  let data: TrainingData
  let prefetcher: BatchPrefetcher
  let diffusion = ForwardDiffusion()
  /// The FID network, when `metric_tracker_cfg` asks for patch FID in validation.
  let inception: FIDInception?
  var step = 0
  var device: Device { options.device }
  /// Averages gradients over the ranks (nil on a single process).
  var reducer: GradientReducer?
  var rank: Int { options.processGroup?.rank ?? 0 }
  var worldSize: Int { options.processGroup?.worldSize ?? 1 }
  /// Rank 0 alone writes logs, samples and checkpoints.
  var writes: Bool { rank == 0 }

  public init(config: TrainingConfig, yaml: String, options: Options) throws {
    self.config = config
    self.yaml = yaml
    self.options = options
    try Devices.check(options.device)
    let seedGenerator = try Generator(seed: config.seed)
    // Drawn on the CPU (the same initial weights on every device), then moved.
    flow = try CouplingFlowMatching(net: EfficientUNet(config.net, generator: seedGenerator), path: config.path, sigmaMin: config.sigmaMin)
    emaFlow = try CouplingFlowMatching(net: EfficientUNet(config.net), path: config.path, sigmaMin: config.sigmaMin)
    try flow.move(to: options.device)
    try emaFlow.move(to: options.device)
    ema = try EMA(online: flow, shadow: emaFlow, beta: config.emaRate, updateAfterStep: config.emaUpdateAfterStep, updateEvery: config.emaUpdateEvery)
    optimizer = Adam(flow.namedParameters(), .init(lr: config.lr, weightDecay: config.weightDecay))
    let autoencoder = try config.firstStage.load(device: options.device)
    guard autoencoder.latentChannels == config.net.outChannels else {
      throw ConfigError("the network outputs \(config.net.outChannels) channels but the first stage's latents have \(autoencoder.latentChannels)")
    }
    pixelSpace = PixelSpace(autoencoder: autoencoder, latentScale: config.scaleFactor)
    data = try TrainingData(folder: options.dataFolder, config: config)
    inception = config.patchFID ? try FIDInception(path: config.inceptionPath ?? FIDInception.locate(), device: options.device) : nil
    prefetcher = BatchPrefetcher(data: data, batchSize: config.batchSize, stride: options.processGroup?.worldSize ?? 1, workers: config.workers)
    if let resume = options.resumeFrom { try restore(resume) }
    if let weights = options.loadWeights { try loadWeights(weights) }
    if let group = options.processGroup {
      // Identical starting weights everywhere: rank 0's (fresh, resumed or loaded).
      try group.broadcast((flow.stateDict() + emaFlow.stateDict()).map(\.1))
      reducer = try GradientReducer(group: group, parameters: flow.parameters())
    }
  }

  var checkpointDirectory: URL { options.runDirectory.appendingPathComponent("checkpoints") }

  // MARK: the loop

  /// Optimiser steps in one pass over the training samples (the last batch may be partial).
  var stepsPerEpoch: Int {
    let globalBatch = config.batchSize * worldSize * config.accumulateGradBatches
    return max(1, (data.trainingCount + globalBatch - 1) / globalBatch)
  }

  public func run() throws -> Summary {
    defer { prefetcher.finish() }
    var maxSteps = options.maxSteps ?? config.maxSteps
    if let epochs = config.maxEpochs, epochs * stepsPerEpoch < maxSteps {
      maxSteps = epochs * stepsPerEpoch
      options.log("train.max_epochs \(epochs): stopping after \(maxSteps) steps (\(stepsPerEpoch) per epoch)")
    }
    options.log("training: \(flow.net.parameterCount.formatted()) trainable parameters; global batch size \(config.batchSize * worldSize * config.accumulateGradBatches) = batch \(config.batchSize) × \(worldSize) process\(worldSize == 1 ? "" : "es") × accumulation \(config.accumulateGradBatches)")
    let sinks = writes ? try openLogs() : nil
    var losses: [Double] = []
    let start = Date()
    var windowStart = Date(), windowSteps = 0
    while step < maxSteps {
      var (loss, norm, lr) = try trainStep()
      let logging = step % config.logEvery == 0 || step == maxSteps
      if logging { loss = try meanOverRanks(loss) }
      losses.append(loss)
      windowSteps += 1
      let rate = Double(windowSteps) / max(1e-9, Date().timeIntervalSince(windowStart))
      if let (csv, board) = sinks {
        if logging {
          let eta = Double(maxSteps - step) / max(rate, 1e-9)
          options.log(String(format: "step %d/%d  loss %.5f  lr %.2e%@  %.2f it/s  ETA %@", step, maxSteps, loss, lr,
                             norm.map { String(format: "  grad %.3f", $0) } ?? "", rate, clock(eta)))
          try csv.append(["step": "\(step)", "loss": "\(loss)", "lr": "\(lr)", "grad_norm": norm.map { "\($0)" } ?? "",
                          "steps_per_s": String(format: "%.3f", rate), "elapsed_s": String(format: "%.1f", Date().timeIntervalSince(start))])
          try board.scalar("train/loss", loss, step: step)
          try board.scalar("train/lr", lr, step: step)
          if let norm { try board.scalar("train/grad_norm", norm, step: step) }
          windowStart = Date()
          windowSteps = 0
        }
        if step % config.validateEvery == 0 || step == maxSteps { try validate(csv: csv, board: board) }
        if step % config.checkpointEvery == 0 { try saveCheckpoint(String(format: "step%06d", step)) }
        if step % config.checkpointEvery == 0 || step == maxSteps { try saveCheckpoint("last") }
      }
      if try stopRequested() {
        if sinks != nil {
          try saveCheckpoint("interrupted")
          options.log("stopped at step \(step): wrote \(checkpointDirectory.appendingPathComponent("interrupted.safetensors").path)")
        }
        return Summary(steps: step, losses: losses, stoppedEarly: true)
      }
    }
    return Summary(steps: step, losses: losses, stoppedEarly: false)
  }

  /// Rank 0's run folder: the merged config, metrics.csv and TensorBoard events.
  func openLogs() throws -> (CSVLog, TensorBoardWriter) {
    let fm = FileManager.default
    try Self.requireWritable(checkpointDirectory)
    try fm.createDirectory(at: options.runDirectory.appendingPathComponent("samples"), withIntermediateDirectories: true)
    try AtomicFile.write(Data(yaml.utf8), to: options.runDirectory.appendingPathComponent("config.yaml"))
    let csv = try CSVLog(url: options.runDirectory.appendingPathComponent("metrics.csv"),
                         columns: ["step", "loss", "lr", "grad_norm", "steps_per_s", "elapsed_s", "val_psnr", "val_ssim", "val_mse", "val_fid", "val_kid"])
    options.log("low res \(config.lowResSize), high res \(config.highResSize), upsampling \(config.upsamplingMode.rawValue), start from noise \(config.startFromNoise), noising step \(config.noisingStep), concat context \(config.concatContext); \(data.description); run folder \(options.runDirectory.path)")
    if let warning = data.warning(for: config) { options.log("warning: \(warning)") }
    return (csv, try TensorBoardWriter(directory: options.runDirectory))
  }

  func meanOverRanks(_ value: Double) throws -> Double {
    guard let group = options.processGroup else { return value }
    let t = try Tensor([value])
    try group.allReduceSum(t)
    return try t.item() / Double(worldSize)
  }

  /// A stop asked of any rank stops all of them after the same step.
  func stopRequested() throws -> Bool {
    try meanOverRanks(options.shouldStop() ? 1 : 0) > 0
  }
}

/// h:mm:ss for the ETA in log lines.
func clock(_ seconds: Double) -> String {
  guard seconds.isFinite else { return "?" }
  let s = Int(seconds.rounded())
  return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
}
