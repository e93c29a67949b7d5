import FMBoost
import Foundation
import NN
import Torch

/// Everything a training run is configured with, read from the original's YAML keys
/// (`model.params.*`, `fm_cfg`, `net_cfg`, `first_stage_cfg`, `data.params.*`, `train.*`).
public struct TrainingConfig {
  public enum FirstStage: Equatable {
    case none
    case stableDiffusion(checkpoint: String)
    case tiny(encoder: String, decoder: String)
    /// Exact pixel-unshuffle ×factor (ours: a first stage that can be shipped; see configs/default-2x.yaml).
    case pixelUnshuffle(factor: Int)
  }

  /// Lightning's `precision`: fp32, or bfloat16 autocast of the forward pass (`bf16-mixed`).
  public enum Precision: String, Sendable {
    case fp32 = "32"
    case bf16Mixed = "bf16-mixed"
  }

  /// How training builds the low-resolution image from the high-resolution crop.
  public enum Downsampling: String, Sendable, CaseIterable {
    /// The original: `F.interpolate(mode="bilinear")`, no antialiasing.
    case bilinear
    /// Bicubic with antialiasing, as photo-editing tools and `fmboost eval` downsample.
    case bicubicAntialias = "bicubic_antialias"
  }

  public var net = EfficientUNetConfig()
  public var path = ProbabilityPath.linear
  public var sigmaMin = 0.0
  public var firstStage = FirstStage.none
  public var scaleFactor = 1.0
  public var lowResSize = 32
  public var highResSize = 64
  public var upsamplingMode = UpsamplingMode.bilinear
  public var downsampling = Downsampling.bilinear
  public var startFromNoise = false
  public var noisingStep = -1
  public var concatContext = false
  /// Training times are t = u^p with u ~ U[0, 1) (`model.params.timestep_power`; 1 is the
  /// original's uniform t). p > 1 puts more of the training at small t, where a few-step sampler
  /// from a deterministic x0 spends its first, largest step.
  public var timestepPower = 1.0
  /// `model.params.velocity_loss`: mse (the original's) or l1 (the port's extension).
  public var velocityLoss = CouplingFlowMatching.Distance.mse
  public var lr = 1e-4
  public var weightDecay = 0.0
  public var emaRate = 0.99
  public var emaUpdateEvery = 100
  public var emaUpdateAfterStep = 1000
  public var useEMAForSampling = true
  public var schedule = LRSchedule.constant
  public var logGradNorm = false
  public var imagesToVisualise = 16
  /// Patch FID/KID in validation (`metric_tracker_cfg`: num_crops crops of crop_size per image).
  public var patchFID = false
  public var metricCrops = 4
  public var metricCropSize = 512
  /// The FID Inception network (`metric_tracker_cfg.params.inception_path`; default: the fetched one).
  public var inceptionPath: String?

  // data.params
  public var dataFolder: String?
  public var batchSize = 4
  public var validationBatchSize = 4
  public var validationFraction = 0.1
  public var randomFlip = true
  /// Random 90° rotations of the (square) crops, besides the flip (`data.params.random_rot90`).
  public var randomRot90 = false
  /// Images whose short side is longer are first downscaled to it (bicubic, antialiased).
  public var maxShortSide: Int?
  /// Random crops drawn per training sample, the most detailed kept (`data.params.crop_candidates`,
  /// ours; 1: uniform crops as the original).
  public var cropCandidates = 1

  /// Batches prepared ahead of the step on background threads (`data.params.num_workers`; 0 builds
  /// each batch on the training thread).
  public var workers = 1

  // train
  public var maxSteps = 1000
  /// Stop after this many passes over the training samples as well (`train.max_epochs`; nil: no limit).
  public var maxEpochs: Int?
  public var precision = Precision.fp32
  /// Local processes (`train.devices`; nil: one, unless `--nproc` says otherwise).
  public var devices: Int?
  public var nodes = 1
  public var checkpointEvery = 10_000
  public var validateEvery = 5000
  public var validationBatches = 64
  public var logEvery = 50
  public var accumulateGradBatches = 1
  public var gradientClip: Double?
  public var validationMethod = ODEMethod.rk4
  public var validationSteps = 39
  public var seed: UInt64 = 2024

  public init() {}

  /// Reads and validates a config tree; an unknown key or a wrong type is an error naming it.
  public init(_ tree: ConfigTree) throws {
    let m = "model.params.", fm = "model.params.fm_cfg.params.", n = "model.params.fm_cfg.params.net_cfg.params."
    for target in ["model.target", "model.params.fm_cfg.target", "model.params.fm_cfg.params.net_cfg.target", "data.name", "data.target"] {
      _ = try tree.string(target, default: nil)
    }
    net = try EfficientUNetConfig(reading: ConfigTreeArguments(tree: tree, prefix: n))
    path = try tree.choice(fm + "schedule", default: ProbabilityPath.linear)
    sigmaMin = try tree.double(fm + "sigma_min", default: 0)

    let fs = m + "first_stage_cfg"
    tree.declare(fs)
    if tree.has(fs) {
      let target = try tree.string(fs + ".target", default: "fmboost.kl_autoencoder.AutoencoderKL")!
      if target.hasSuffix("AutoencoderKL") {
        guard let ckpt = try tree.string(fs + ".params.ckpt_path", default: nil) else {
          throw ConfigError("\(tree.source): \(fs).params.ckpt_path is required for the SD autoencoder")
        }
        firstStage = .stableDiffusion(checkpoint: ckpt)
      } else if target.lowercased().contains("taesd") {
        guard let e = try tree.string(fs + ".params.encoder_path", default: nil), let d = try tree.string(fs + ".params.decoder_path", default: nil) else {
          throw ConfigError("\(tree.source): \(fs).params needs encoder_path and decoder_path for a TAESD-family first stage")
        }
        firstStage = .tiny(encoder: e, decoder: d)
      } else if target.hasSuffix("PixelUnshuffle") {
        let factor = try tree.int(fs + ".params.factor", default: 4)
        guard factor >= 1 else { throw ConfigError("\(tree.source): \(fs).params.factor must be at least 1") }
        firstStage = .pixelUnshuffle(factor: factor)
      } else {
        throw ConfigError("\(tree.source): \(fs).target \(target) is not a known first stage (AutoencoderKL, TAESD or PixelUnshuffle)")
      }
    }
    scaleFactor = try tree.double(m + "scale_factor", default: 1)
    lowResSize = try tree.int(m + "low_res_size", default: lowResSize)
    highResSize = try tree.int(m + "high_res_size", default: 2 * lowResSize)
    let modeName = try tree.string(m + "upsampling_mode", default: "bilinear")!
    guard let mode = UpsamplingMode(rawValue: modeName) else {
      throw ConfigError("\(tree.source): \(m)upsampling_mode must be one of \(UpsamplingMode.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    upsamplingMode = mode
    downsampling = try tree.choice(m + "low_res_downsampling", default: Downsampling.bilinear)
    if let contextMode = try tree.string(m + "upsampling_mode_context", default: nil), contextMode != modeName {
      throw ConfigError("\(tree.source): \(m)upsampling_mode_context different from upsampling_mode is not supported")
    }
    _ = try tree.string(m + "upsampling_mode_ca_context", default: nil)
    startFromNoise = try tree.bool(m + "start_from_noise", default: false)
    noisingStep = try tree.int(m + "noising_step", default: -1)
    if startFromNoise && noisingStep > 0 { throw ConfigError("\(tree.source): start_from_noise and noising_step > 0 exclude each other") }
    guard ForwardDiffusion.isValidNoisingStep(noisingStep) else {
      throw ConfigError("\(tree.source): \(m)noising_step must be −1/0 (off) or 2…999")
    }
    concatContext = try tree.bool(m + "concat_context", default: false)
    timestepPower = try tree.double(m + "timestep_power", default: 1)
    guard timestepPower > 0, timestepPower.isFinite else { throw ConfigError("\(tree.source): \(m)timestep_power must be positive, got \(timestepPower)") }
    velocityLoss = try tree.choice(m + "velocity_loss", default: CouplingFlowMatching.Distance.mse)
    if try tree.bool(m + "ca_context", default: false) { throw ConfigError("\(tree.source): \(m)ca_context is not implemented (as in the original)") }
    lr = try tree.double(m + "lr", default: 1e-4)
    weightDecay = try tree.double(m + "weight_decay", default: 0)
    emaRate = try tree.double(m + "ema_rate", default: 0.99)
    emaUpdateEvery = try tree.int(m + "ema_update_every", default: 100)
    emaUpdateAfterStep = try tree.int(m + "ema_update_after_step", default: 1000)
    useEMAForSampling = try tree.bool(m + "use_ema_for_sampling", default: true)
    logGradNorm = try tree.bool(m + "log_grad_norm", default: false)
    imagesToVisualise = try tree.int(m + "n_images_to_vis", default: 16)
    tree.declare(m + "metric_tracker_cfg")
    patchFID = tree.has(m + "metric_tracker_cfg")
    _ = try tree.string(m + "metric_tracker_cfg.target", default: nil)
    metricCrops = try tree.int(m + "metric_tracker_cfg.params.num_crops", default: 4)
    metricCropSize = try tree.int(m + "metric_tracker_cfg.params.crop_size", default: 512)
    inceptionPath = try tree.string(m + "metric_tracker_cfg.params.inception_path", default: nil)
    if patchFID && (metricCrops < 1 || metricCropSize < 16) {
      throw ConfigError("\(tree.source): \(m)metric_tracker_cfg.params needs num_crops ≥ 1 and crop_size ≥ 16")
    }
    let s = m + "lr_scheduler_cfg"
    tree.declare(s)
    if tree.has(s) {
      let target = try tree.string(s + ".target", default: "")!
      let warmup = try tree.int(s + ".params.num_warmup_steps", default: 0)
      if target.hasSuffix("get_cosine_schedule_with_warmup") {
        schedule = .cosineWithWarmup(
          warmupSteps: warmup, totalSteps: try tree.int(s + ".params.num_training_steps", default: 100_000),
          cycles: try tree.double(s + ".params.num_cycles", default: 0.5))
      } else if target.hasSuffix("get_constant_schedule_with_warmup") {
        schedule = .constantWithWarmup(warmupSteps: warmup)
      } else {
        throw ConfigError("\(tree.source): \(s).target must be get_constant_schedule_with_warmup or get_cosine_schedule_with_warmup")
      }
    }

    let d = "data.params."
    dataFolder = try tree.string(d + "folder", default: nil)
    batchSize = try tree.int(d + "batch_size", default: 4)
    validationBatchSize = try tree.int(d + "val_batch_size", default: batchSize)
    validationFraction = try tree.double(d + "val_fraction", default: 0.1)
    randomFlip = try tree.bool(d + "random_flip", default: true)
    randomRot90 = try tree.bool(d + "random_rot90", default: false)
    tree.declare(d + "max_short_side")  // null: no limit
    maxShortSide = tree.has(d + "max_short_side") ? try tree.int(d + "max_short_side", default: 0) : nil
    if let side = maxShortSide, side < 1 { throw ConfigError("\(tree.source): \(d)max_short_side must be positive") }
    cropCandidates = try tree.int(d + "crop_candidates", default: 1)
    guard cropCandidates >= 1 else { throw ConfigError("\(tree.source): \(d)crop_candidates must be 1 or more, got \(cropCandidates)") }
    workers = try tree.int(d + "num_workers", default: 1)
    guard workers >= 0 else { throw ConfigError("\(tree.source): \(d)num_workers must be 0 or more, got \(workers)") }

    let t = "train."
    maxSteps = try tree.int(t + "max_steps", default: 1000)
    checkpointEvery = try tree.int(t + "checkpoint_every_n_train_steps", default: 10_000)
    validateEvery = try tree.int(t + "val_check_interval", default: 5000)
    validationBatches = try tree.int(t + "limit_val_batches", default: 64)
    logEvery = try tree.int(t + "log_every_n_steps", default: 50)
    accumulateGradBatches = try tree.int(t + "accumulate_grad_batches", default: 1)
    let clip = try tree.double(t + "gradient_clip_val", default: 0)
    gradientClip = clip > 0 ? clip : nil
    let method = try tree.string(t + "val_method", default: "rk4")!
    guard let vm = ODEMethod(rawValue: method) else { throw ConfigError("\(tree.source): \(t)val_method \(method) is not an ODE method") }
    validationMethod = vm
    validationSteps = try tree.int(t + "val_steps", default: 39)
    let seedValue = try tree.int(t + "seed", default: 2024)
    guard seedValue >= 0 else { throw ConfigError("\(tree.source): \(t)seed must be 0 or more, got \(seedValue)") }
    seed = UInt64(seedValue)
    try readRuntimeKeys(tree)
    try validate(source: tree.source)
    try tree.rejectUnknownKeys()
  }

  /// `train.precision`, `max_epochs`, `devices` and `num_nodes`: Lightning's trainer arguments.
  private mutating func readRuntimeKeys(_ tree: ConfigTree) throws {
    let t = "train."
    let precisionName = try tree.string(t + "precision", default: "32")!
    switch precisionName {
    case "32", "32-true", "fp32", "float32": precision = .fp32
    case "bf16-mixed", "bf16": precision = .bf16Mixed
    default:
      throw ConfigError("\(tree.source): \(t)precision \(precisionName) is not supported: use 32 or bf16-mixed (16-mixed needs a CUDA grad scaler, 64 and bf16-true are not implemented)")
    }
    let epochs = try tree.int(t + "max_epochs", default: -1)
    guard epochs == -1 || epochs > 0 else { throw ConfigError("\(tree.source): \(t)max_epochs must be -1 (no limit) or positive, got \(epochs)") }
    maxEpochs = epochs > 0 ? epochs : nil
    if tree.has(t + "devices") {
      let value = try tree.string(t + "devices", default: nil)!
      switch value {
      case "-1", "auto": devices = ProcessInfo.processInfo.activeProcessorCount
      default:
        guard let n = Int(value), n >= 1 else {
          throw ConfigError("\(tree.source): \(t)devices must be a positive number of processes, -1 or auto (one per core), got \(value)")
        }
        devices = n
      }
    }
    nodes = try tree.int(t + "num_nodes", default: 1)
    guard nodes >= 1 else { throw ConfigError("\(tree.source): \(t)num_nodes must be at least 1, got \(nodes)") }
  }
}

/// The network's constructor arguments under `prefix` of a config tree, read with the tree's
/// type checks (an unknown key is still refused by `rejectUnknownKeys`).
struct ConfigTreeArguments: ConfigArgumentReader {
  let tree: ConfigTree
  let prefix: String

  func read<T: Decodable>(_ name: String, default value: T) throws -> T {
    let path = prefix + name
    switch value {
    case let v as Int: return try tree.int(path, default: v) as! T
    case let v as Double: return try tree.double(path, default: v) as! T
    case let v as Bool: return try tree.bool(path, default: v) as! T
    case let v as [Int]: return try tree.ints(path, default: v) as! T
    default: throw ConfigError("\(tree.source): \(path) has a type configs cannot give")
    }
  }
}
