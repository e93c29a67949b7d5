import Evaluation
import FileSupport
import FMBoost
import Foundation
import Pipelines
import Torch
import Training

/// Runs an `AblationPlan` into a folder, resumably: the latent shards of each space, one training
/// run per space, variant and seed (checkpoints at every length), and one result file per run,
/// length and condition. Whatever exists complete is kept, so a rerun after an interruption
/// continues where it stopped (a training run from its last checkpoint).
public struct AblationStudy {
  public let plan: AblationPlan
  public let folder: URL

  public init(plan: AblationPlan, folder: URL) {
    self.plan = plan
    self.folder = folder
  }

  /// One training run of the plan.
  public struct Run: Sendable {
    public let space: AblationPlan.Space
    public let variant: AblationPlan.Variant
    public let seed: UInt64
    public var name: String { Self.name(space: space.name, variant: variant.name, seed: seed) }
    public static func name(space: String, variant: String, seed: UInt64) -> String { "\(space)-\(variant)-seed\(seed)" }
  }

  /// Seed by seed, so that a study stopped halfway has compared every variant in every space.
  public var runs: [Run] {
    plan.seeds.flatMap { seed in plan.spaces.flatMap { space in plan.variants.map { Run(space: space, variant: $0, seed: seed) } } }
  }

  /// Everything not yet done; `log` gets one line per step taken.
  public func run(log: @escaping (String) -> Void) throws {
    let total = runs.count
    var inception: FIDInception?
    var degradations: [AblationPlan.Condition: LowResolutionDegradation] = [:]  // each made once (latent noise loads TAEF2)
    for (index, run) in runs.enumerated() {
      let prefix = "[\(index + 1)/\(total)] \(run.name)"
      try train(run, log: { log("\(prefix): \($0)") })
      for length in plan.lengths {
        for condition in plan.conditions where !FileManager.default.fileExists(atPath: resultURL(run, length, condition).path) {
          let start = Date()
          // Patch FID/KID on clean inputs only: the Inception network costs more than the rest.
          if condition == .clean, inception == nil, let path = plan.inception { inception = try FIDInception(path: path) }
          if condition != .clean, degradations[condition] == nil { degradations[condition] = try degradation(condition) }
          try evaluate(run, length: length, condition: condition, degradation: degradations[condition], inception: condition == .clean ? inception : nil,
                       log: { log("\(prefix): \($0)") })
          log(String(format: "%@: evaluated %d steps on %@ inputs (%.0f s)", prefix, length, condition.rawValue, Date().timeIntervalSince(start)))
        }
      }
    }
  }

  // MARK: Training

  func trainingConfig(_ run: Run) throws -> (TrainingConfig, String) {
    let c = run.space.latentChannels, longest = plan.lengths.max() ?? 1
    let yaml = """
      model:
        params:
          fm_cfg:
            params:
              schedule: linear
              net_cfg:
                params:
                  in_channels: \(2 * c)
                  model_channels: \(plan.network.channels)
                  out_channels: \(c)
                  num_res_blocks: 1
                  attention_resolutions: []
                  channel_mult: \(plan.network.mult)
                  dim_head: 32
                  num_heads: 2
          first_stage_cfg: \(run.space.firstStageYAML)
          scale_factor: \(run.space.latentScale)
          low_res_size: \(plan.evaluationSide / 2)
          high_res_size: \(plan.evaluationSide)
          low_res_downsampling: bicubic_antialias
          upsampling_mode: psu
          start_from_noise: false
          noising_step: 400
          concat_context: true
          lr: 2.0e-4
          ema_rate: 0.99
          ema_update_every: 1
          ema_update_after_step: \(min(100, longest / 4))
          lr_scheduler_cfg:
            target: fmboost.lr_schedulers.get_constant_schedule_with_warmup
            params: {num_warmup_steps: \(min(100, longest / 4))}
      data:
        params:
          folder: \(plan.trainingImages)
          batch_size: \(plan.batchSize)
          val_batch_size: 2
          max_short_side: \(plan.shortSide)
          random_flip: true
          random_rot90: true
      train:
        max_steps: \(longest)
        checkpoint_every_n_train_steps: \(plan.lengths.reduce(0) { gcd($0, $1) })
        val_check_interval: \(10 * longest)
        limit_val_batches: 1
        log_every_n_steps: \(max(1, longest / 10))
        gradient_clip_val: 1.0
        seed: \(run.seed)
      """
    let tree = try ConfigTree(yaml: yaml, source: "the ablation study's \(run.name)")
    try tree.apply(overrides: run.variant.overrides)
    return (try TrainingConfig(tree), try tree.yaml())
  }

  func checkpoint(_ run: Run, step: Int) -> URL {
    folder.appendingPathComponent("runs/\(run.name)/checkpoints").appendingPathComponent(String(format: "step%06d.safetensors", step))
  }

  /// Trains `run` to the longest length (resuming from its last checkpoint), unless done.
  func train(_ run: Run, log: @escaping (String) -> Void) throws {
    let longest = plan.lengths.max() ?? 1
    let (config, yaml) = try trainingConfig(run)
    let directory = folder.appendingPathComponent("runs/\(run.name)")
    // The trainer saves the YAML of a run; one of another plan must not be resumed or scored as this plan's.
    if let saved = try? String(contentsOf: directory.appendingPathComponent("config.yaml"), encoding: .utf8), saved != yaml {
      throw ConfigError("\(directory.path) was trained with another configuration than this plan's; delete runs/\(run.name), "
                        + "models/\(run.name)-* and results/\(run.name)-* in \(folder.path) to train it again")
    }
    guard !FileManager.default.fileExists(atPath: checkpoint(run, step: longest).path) else { return }
    // The variants of a space share its shards (they differ in what training does with them).
    let shards = folder.appendingPathComponent("shards/\(run.space.name)")
    try LatentShards.precompute(folder: plan.trainingImages, output: shards, config: config, shardSize: 64, cropsPerImage: plan.cropsPerImage,
                                progress: { if !$0.hasSuffix("already written, skipped") { log($0) } })
    var options = Trainer.Options(runDirectory: directory, dataFolder: shards.path)
    let last = directory.appendingPathComponent("checkpoints/last.safetensors")
    if FileManager.default.fileExists(atPath: last.path) { options.resumeFrom = last.path }
    options.log = log
    let start = Date()
    let summary = try Trainer(config: config, yaml: yaml, options: options).run()
    log(String(format: "trained to step %d (%.0f s)", summary.steps, Date().timeIntervalSince(start)))
  }

  // MARK: Evaluation

  func resultURL(_ run: Run, _ length: Int, _ condition: AblationPlan.Condition) -> URL {
    folder.appendingPathComponent("results/\(run.name)-\(length)-\(condition.rawValue).json")
  }

  func degradation(_ condition: AblationPlan.Condition) throws -> LowResolutionDegradation? {
    switch condition {
    case .clean: return nil
    case .jpeg: return .jpeg(quality: 40)
    case .latentNoise: return .latentNoise(try AutoencoderLoader.load(AblationPlan.Space.taef2.autoencoder ?? []), sigma: 0.2, seed: 7)
    }
  }

  func evaluate(_ run: Run, length: Int, condition: AblationPlan.Condition, degradation: LowResolutionDegradation?, inception: FIDInception?,
                log: (String) -> Void) throws {
    let model = folder.appendingPathComponent("models/\(run.name)-\(length).safetensors")
    if !FileManager.default.fileExists(atPath: model.path) {
      try FileManager.default.createDirectory(at: model.deletingLastPathComponent(), withIntermediateDirectories: true)
      _ = try ModelExport.export(checkpoint: checkpoint(run, step: length).path, to: model)
    }
    let pipeline = try UpsamplingPipeline(UpsamplingPipeline.Configuration(model: model.path, autoencoder: run.space.autoencoder))
    var configuration = EvaluationPipeline.Configuration()
    (configuration.method, configuration.stepCounts) = (.euler, plan.eulerSteps)
    (configuration.maxShortSide, configuration.maxSide, configuration.crops, configuration.cropSize) = (plan.shortSide, plan.evaluationSide, plan.patchCrops, plan.patchSize)
    configuration.degradation = degradation
    let report = try EvaluationPipeline(pipeline, configuration: configuration, inception: inception).run([plan.heldOutImages]) { outcome in
      if case .failure(let error) = outcome.result { log("\(outcome.input.relative): \(error)") }
    }
    let result = AblationResult(run: run.name, space: run.space.name, variant: run.variant.name, seed: run.seed, length: length,
                                condition: condition.rawValue, report: report)
    let url = resultURL(run, length, condition)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try AtomicFile.write(try JSONEncoder().encode(result), to: url)
  }
}

private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
