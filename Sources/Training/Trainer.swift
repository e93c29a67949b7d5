import Checkpoint
import Evaluation
import FMBoost
import Foundation
import Imaging
import NN
import Torch

/// The training loop of the original (spec 6.5–6.10) on one process: per micro-batch the batch
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
  let flow: CouplingFlowMatching
  let emaFlow: CouplingFlowMatching
  let ema: EMA
  let optimizer: Adam
  let pixelSpace: PixelSpace
  let data: TrainingData
  let prefetcher: BatchPrefetcher
  let diffusion = ForwardDiffusion()
  /// The FID network, when `metric_tracker_cfg` asks for patch FID in validation.
  let inception: FIDInception?
  var step = 0
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
    let seedGenerator = try Generator(seed: config.seed)
    flow = try CouplingFlowMatching(net: EfficientUNet(config.net, generator: seedGenerator), path: config.path, sigmaMin: config.sigmaMin)
    emaFlow = try CouplingFlowMatching(net: EfficientUNet(config.net), path: config.path, sigmaMin: config.sigmaMin)
    ema = try EMA(online: flow, shadow: emaFlow, beta: config.emaRate, updateAfterStep: config.emaUpdateAfterStep, updateEvery: config.emaUpdateEvery)
    optimizer = Adam(flow.namedParameters(), .init(lr: config.lr, weightDecay: config.weightDecay))
    let autoencoder = try config.firstStage.load()
    guard autoencoder.latentChannels == config.net.outChannels else {
      throw ConfigError("the network outputs \(config.net.outChannels) channels but the first stage's latents have \(autoencoder.latentChannels)")
    }
    pixelSpace = PixelSpace(autoencoder: autoencoder, latentScale: config.scaleFactor)
    data = try TrainingData(folder: options.dataFolder, config: config)
    inception = config.patchFID ? try FIDInception(path: config.inceptionPath ?? FIDInception.locate()) : nil
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

  // MARK: one step

  /// Per-sample t = u^timestep_power, u ~ U(0, 1), and augmentation noise (one latent's shape) for
  /// samples first..<first+count.
  public func sampleDraws(first: Int, count: Int) throws -> (t: Tensor, noise: [Tensor]) {
    let latentShape = [config.net.outChannels, config.highResSize / pixelSpace.autoencoder.downsamplingFactor,
                       config.highResSize / pixelSpace.autoencoder.downsamplingFactor]
    var t: [Tensor] = [], noise: [Tensor] = []
    for k in first..<(first + count) {
      let g = try Generator(seed: config.seed ^ (UInt64(k) &* 0x94D0_49BB_1331_11EB) ^ 0x7A11)
      let u = try Tensor.rand([1], generator: g)
      t.append(config.timestepPower == 1 ? u : try u.pow(config.timestepPower))
      if config.noisingStep > 0 { noise.append(try Tensor.randn(latentShape, generator: g)) }
    }
    return (try Tensor.cat(t, dim: 0), noise)
  }

  /// Target x1, source x0 and context for a batch (the original's `extract_from_batch` and
  /// `get_source_and_context`, spec 6.2–6.4): precomputed latents are scaled and used as they are.
  /// `noise` (one latent-shaped draw per sample) makes the noise augmentation reproducible.
  public func sourceAndTarget(_ batch: Batch, generator: Generator, noise: [Tensor] = []) throws -> (x1: Tensor, x0: Tensor, context: Tensor) {
    let images = try toAutoencoderRange(batch.image)
    let x1 = try withNoGrad { try batch.latent.map { try $0 * config.scaleFactor } ?? pixelSpace.encode(images) }
    let lowRes = try config.lowResImage(images)
    let latentSize = (x1.size(2), x1.size(3))
    // Spec 6.2-6.4: lres_z = E(lres_ims), brought to the latent size by the upsampling mode; PSU
    // takes the low-resolution image itself (never the shortcut meant for precomputed latents).
    let context = try withNoGrad {
      if config.upsamplingMode == .psu {
        if let precomputed = batch.latentLowRes { return try precomputed * config.scaleFactor }
        return try pixelSpaceUpsample(lowRes, to: latentSize, pixelSpace: pixelSpace)
      }
      return try upsampleLatent(pixelSpace.encode(lowRes), to: latentSize, mode: config.upsamplingMode, generator: generator)
    }
    var x0 = config.startFromNoise ? try context.randnLike(generator: generator) : context
    if config.noisingStep > 0 {
      let eps = noise.isEmpty ? nil : try Tensor.stack(noise)
      x0 = try diffusion.qSample(x0, step: config.noisingStep, noise: eps.flatMap { $0.shape == x0.shape ? $0 : nil }, generator: generator)
    }
    return (x1, x0, context)
  }

  /// Batches hold [−1, 1]; TAESD-family autoencoders take [0, 1].
  func toAutoencoderRange(_ images: Tensor) throws -> Tensor {
    pixelSpace.autoencoder.pixelRange == .unit ? try (images + 1) / 2 : images
  }

  func fromAutoencoderRange(_ images: Tensor) throws -> Tensor {
    pixelSpace.autoencoder.pixelRange == .unit ? try images * 2 - 1 : images
  }

  /// One optimiser step (accumulating over micro-batches); returns the mean loss and grad norm.
  func trainStep() throws -> (loss: Double, gradNorm: Double?, lr: Double) {
    let accumulation = config.accumulateGradBatches
    var total = 0.0
    for micro in 0..<accumulation {
      // Rank r takes every worldSize-th batch of the stream: together the ranks see exactly the
      // samples one process with a worldSize times larger batch would.
      let batchIndex = (step * accumulation + micro) * worldSize + rank
      let batch = try prefetcher.batch(batchIndex)
      let generator = try Generator(seed: config.seed &+ 0x1000_0000 &+ UInt64(batchIndex))
      // t and the augmentation noise belong to the sample (its index in the stream), not to the
      // process: ranks draw different values (the original shares its seed across ranks), and the
      // result does not depend on how the batch is split.
      let draws = try sampleDraws(first: batchIndex * config.batchSize, count: batch.image.size(0))
      let (x1, x0, context) = try sourceAndTarget(batch, generator: generator, noise: draws.noise)
      if step == 0 && micro == 0 {
        // What scale_factor should be: the original's recipe is 1 / std of the first batch's latents.
        let std = try x1.std().item() / config.scaleFactor
        options.log(String(format: "first batch: latent std %.4f (1/std = %.3f; scale_factor %.4g gives std %.3f)", std, 1 / std, config.scaleFactor, std * config.scaleFactor))
      }
      let useContext = config.concatContext || config.startFromNoise
      let forward = { try self.flow.trainingLoss(x1: x1, x0: x0, context: useContext ? context : nil, t: draws.t, generator: generator) }
      let result = config.precision == .bf16Mixed ? try withAutocast(.bfloat16, forward) : try forward()
      let loss = try result.loss.item()
      guard loss.isFinite else {
        throw TrainingError.nonFiniteLoss(step: step, value: loss)
      }
      try ema.update()
      if micro == accumulation - 1 { try reducer?.prepareForBackward() }
      try (result.loss / Double(accumulation)).backward()
      total += loss
    }
    let lr = config.lr * config.schedule.multiplier(at: step + 1)
    let parameters = flow.parameters()
    var norm: Double?
    if let clip = config.gradientClip { norm = try clipGradNorm(parameters, maxNorm: clip) } else if config.logGradNorm { norm = try gradNorm(parameters) }
    optimizer.lr = lr
    try optimizer.step()
    try optimizer.zeroGrad()
    step += 1
    return (total / Double(accumulation), norm, lr)
  }

  // MARK: the loop

  /// Optimiser steps in one pass over the training samples (the last batch may be partial).
  var stepsPerEpoch: Int {
    let globalBatch = config.batchSize * worldSize * config.accumulateGradBatches
    return max(1, (data.trainingCount + globalBatch - 1) / globalBatch)
  }

  public func run() throws -> Summary {
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

  // MARK: validation

  func validate(csv: CSVLog, board: TensorBoardWriter) throws {
    let sampler = config.useEMAForSampling ? emaFlow : flow
    var psnr: [Double] = [], ssim: [Double] = [], mse: [Double] = []
    var rows: [Tensor] = []
    let patches = try inception.map { try PatchFID(network: $0, crops: config.metricCrops, cropSize: config.metricCropSize) }
    try withNoGrad {
      for (i, batch) in try data.validationBatches(batchSize: config.validationBatchSize, limit: config.validationBatches).enumerated() {
        let images = batch.image
        let generator = try Generator(seed: config.seed &+ 0x2000_0000 &+ UInt64(i))
        let (_, x0, context) = try sourceAndTarget(batch, generator: generator)
        let useContext = config.concatContext || config.startFromNoise
        let solution = try sampler.sample(from: x0, context: useContext ? context : nil,
                                          FlowSampling(method: config.validationMethod, steps: config.validationSteps))
        let prediction = try fromAutoencoderRange(pixelSpace.decode(solution.final))
        psnr.append(try ImageMetrics.psnr(prediction, images))
        ssim.append(try ImageMetrics.ssim(prediction, images))
        mse.append(try ImageMetrics.mse(prediction, images))
        if let patches {
          // The original's anchors: drawn per image, the same crop of the target and the prediction.
          for j in 0..<images.size(0) {
            let anchors = try patches.anchors(height: images.size(2), width: images.size(3), generator: Generator(seed: config.seed &+ UInt64(i * 1000 + j)))
            try patches.add(images[j].unsqueeze(dim: 0), anchors: anchors, method: "real")
            try patches.add(prediction[j].unsqueeze(dim: 0), anchors: anchors, method: "prediction")
          }
        }
        let lowRes = try config.lowResImage(images).interpolate(size: (config.highResSize, config.highResSize), mode: .bilinear)
        for j in 0..<images.size(0) where rows.count < config.imagesToVisualise {
          rows.append(try Tensor.cat([images[j], lowRes[j], prediction[j]], dim: 2))
        }
      }
    }
    guard !psnr.isEmpty else { return }
    let (p, s, m) = (psnr.reduce(0, +) / Double(psnr.count), ssim.reduce(0, +) / Double(ssim.count), mse.reduce(0, +) / Double(mse.count))
    var perceptual: PatchFID.Result?
    do {
      perceptual = try patches.flatMap { try $0.results(reference: "real")["prediction"] }
    } catch {
      options.log("validation: no patch FID (\(error))")
    }
    let fidText = perceptual.map { String(format: "  patch FID %.2f  KID %.4f ± %.4f (%d crops)", $0.fid, $0.kidMean, $0.kidStd, $0.samples) } ?? ""
    options.log(String(format: "validation at step %d: PSNR %.2f dB  SSIM %.4f  MSE %.5f%@ (rows: high-res | low-res | prediction)", step, p, s, m, fidText))
    try csv.append(["step": "\(step)", "val_psnr": "\(p)", "val_ssim": "\(s)", "val_mse": "\(m)",
                    "val_fid": perceptual.map { "\($0.fid)" } ?? "", "val_kid": perceptual.map { "\($0.kidMean)" } ?? ""])
    if let perceptual {
      try board.scalar("val/fid", perceptual.fid, step: step)
      try board.scalar("val/kid", perceptual.kidMean, step: step)
    }
    try board.scalar("val/psnr", p, step: step)
    try board.scalar("val/ssim", s, step: step)
    try board.scalar("val/mse", m, step: step)
    guard !rows.isEmpty else { return }
    let grid = try Tensor.cat(rows, dim: 1)
    let path = options.runDirectory.appendingPathComponent(String(format: "samples/step%06d.png", step)).path
    try ImageFile.write(grid, to: path, range: .symmetric)
    let png = try ImageFile.encode(grid, name: path, range: .symmetric, jpeg: false)
    try board.image("val/samples", png: png, height: grid.size(1), width: grid.size(2), step: step)
  }

  // MARK: resume and weights

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

/// h:mm:ss for the ETA in log lines.
func clock(_ seconds: Double) -> String {
  guard seconds.isFinite else { return "?" }
  let s = Int(seconds.rounded())
  return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
}
