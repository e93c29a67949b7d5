import Checkpoint
import FMBoost
import Foundation
import TestSupport
import Testing
import Torch
import Training

/// A very small pixel-space model and a folder of real photos, so the tests train in seconds.
enum TinyRun {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static func config(_ overrides: [String] = []) throws -> (TrainingConfig, String) {
    let tree = try ConfigTree(path: repo.appendingPathComponent("configs/cpu-tiny.yaml").path)
    try tree.apply(overrides: [
      "model.params.fm_cfg.params.net_cfg.params.channel_mult=[1, 2]", "model.params.fm_cfg.params.net_cfg.params.attention_resolutions=[2]",
      "model.params.low_res_size=16", "model.params.high_res_size=32", "data.params.batch_size=2", "data.params.val_batch_size=2",
      "train.val_check_interval=1000", "train.log_every_n_steps=1", "train.val_steps=2", "model.params.ema_update_after_step=2",
    ] + overrides)
    return (try TrainingConfig(tree), try tree.yaml())
  }

  static func options(_ run: URL, resume: String? = nil, maxSteps: Int? = nil) -> Trainer.Options {
    var o = Trainer.Options(runDirectory: run, dataFolder: Shared.photo(""))
    o.resumeFrom = resume
    o.maxSteps = maxSteps
    o.log = { _ in }
    return o
  }
}

@Suite struct TrainerTests {
  @Test func oneStepRefreshesTheEMABeforeTheOptimiserAndUsesTheNextLearningRate() throws {
    let dir = try temporaryDirectory("one-step")
    defer { try? FileManager.default.removeItem(at: dir) }
    // Before ema_update_after_step the EMA copies the online weights (spec 6.6), so after one step
    // it holds the weights from before the optimiser moved them only if it was updated first.
    let (config, yaml) = try TinyRun.config(["model.params.ema_update_after_step=1000", "model.params.lr_scheduler_cfg.params.num_warmup_steps=10"])
    let trainer = try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir))
    let before = Dictionary(uniqueKeysWithValues: try trainer.flow.stateDict().map { ($0.0, try $0.1.clone()) })
    let result = try trainer.trainStep()
    var moved = 0.0
    for (key, value) in try trainer.flow.stateDict() { moved = max(moved, try (value - before[key]!).abs().max().item()) }
    #expect(moved > 0)
    for (key, value) in try trainer.emaFlow.stateDict() { #expect(try (value - before[key]!).abs().max().item() == 0, "\(key)") }
    // The first step uses the warm-up multiplier of step 1 (the original's k + 1): lr / 10.
    #expect(abs(result.lr - config.lr / 10) < 1e-15, "lr \(result.lr)")
  }

  @Test func timestepPowerRaisesTheUniformDraws() throws {
    let dir = try temporaryDirectory("timestep-power")
    defer { try? FileManager.default.removeItem(at: dir) }
    func times(_ power: Double) throws -> [Float] {
      let (config, yaml) = try TinyRun.config(["model.params.timestep_power=\(power)"])
      return try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir)).sampleDraws(first: 100, count: 400).t.toArray(Float.self)
    }
    let (uniform, cubed) = (try times(1), try times(3))
    for (u, t) in zip(uniform, cubed) { #expect(abs(u * u * u - t) < 1e-6) }
    // t = u³: P(t < 1/8) = P(u < 1/2) = 1/2, against 1/8 for uniform t.
    #expect(abs(Double(cubed.filter { $0 < 0.125 }.count) / 400 - 0.5) < 0.08)
  }

  @Test func resumedRunContinuesExactly() throws {
    let dir = try temporaryDirectory("resume")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (config, yaml) = try TinyRun.config(["train.checkpoint_every_n_train_steps=3"])
    let whole = try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir.appendingPathComponent("a"), maxSteps: 6)).run()
    let first = try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir.appendingPathComponent("b"), maxSteps: 3)).run()
    let checkpoint = dir.appendingPathComponent("b/checkpoints/step000003.safetensors").path
    let rest = try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir.appendingPathComponent("b"), resume: checkpoint, maxSteps: 6)).run()
    #expect(whole.losses.count == 6 && first.losses.count == 3 && rest.losses.count == 3)
    #expect(first.losses == Array(whole.losses.prefix(3)))
    #expect(rest.losses == Array(whole.losses.suffix(3)), "\(rest.losses) vs \(whole.losses.suffix(3))")
    // The finished checkpoint is a model `upsample` can load (EMA weights, config in the metadata).
    let loaded = try FlowModelLoader.load(dir.appendingPathComponent("a/checkpoints/last.safetensors").path)
    #expect(loaded.weights == "ema" && loaded.flow.net.config == config.net)
    let csv = try String(contentsOf: dir.appendingPathComponent("a/metrics.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count >= 7)
  }

  @Test func nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
    let dir = try temporaryDirectory("nan")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (config, yaml) = try TinyRun.config(["model.params.lr=1e30", "train.checkpoint_every_n_train_steps=1", "train.gradient_clip_val=0"])
    let trainer = try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir, maxSteps: 20))
    #expect {
      _ = try trainer.run()
    } throws: { "\($0)".contains("the loss became") && "\($0)".contains("last good checkpoint") }
    let last = try TrainingCheckpoint.load(dir.appendingPathComponent("checkpoints/last.safetensors").path)
    #expect(last.step >= 1)
  }

  @Test func tensorBoardRecordsCarryValidMaskedCRC32C() throws {
    #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    let dir = try temporaryDirectory("tb")
    defer { try? FileManager.default.removeItem(at: dir) }
    let writer = try TensorBoardWriter(directory: dir)
    try writer.scalar("train/loss", 0.25, step: 7)
    try writer.image("val/samples", png: [1, 2, 3], height: 1, width: 1, step: 7)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path)))
    // Independent bitwise CRC-32C and mask.
    func crc(_ data: ArraySlice<UInt8>) -> UInt32 {
      var c: UInt32 = 0xFFFF_FFFF
      for b in data { c ^= UInt32(b); for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 } }
      c = ~c
      return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
    func u32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    var position = 0, records = 0
    while position < bytes.count {
      let length = Int(bytes[position..<(position + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
      #expect(u32(position + 8) == crc(bytes[position..<(position + 8)]))
      #expect(u32(position + 12 + length) == crc(bytes[(position + 12)..<(position + 12 + length)]))
      position += 16 + length
      records += 1
    }
    #expect(position == bytes.count && records == 3)
    #expect(String(decoding: bytes, as: UTF8.self).contains("brain.Event:2") && String(decoding: bytes, as: UTF8.self).contains("train/loss"))
  }
}

@Suite struct ShardTests {
  @Test func precomputedShardsTrainAndResumeAnInterruptedPrecompute() throws {
    let dir = try temporaryDirectory("shards")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (config, yaml) = try TinyRun.config(["model.params.upsampling_mode=psu"])
    let shards = dir.appendingPathComponent("shards")
    var messages: [String] = []
    try LatentShards.precompute(folder: Shared.photo(""), output: shards, config: config, shardSize: 3) { messages.append($0) }
    #expect(LatentShards.present(in: shards.path))
    let first = try FileManager.default.contentsOfDirectory(atPath: shards.appendingPathComponent("train").path).sorted()
    #expect(first.count >= 2)
    // Interrupt: lose the last shard, run again — earlier shards are skipped, the missing one rewritten.
    try FileManager.default.removeItem(at: shards.appendingPathComponent("train/" + first.last!))
    messages.removeAll()
    try LatentShards.precompute(folder: Shared.photo(""), output: shards, config: config, shardSize: 3) { messages.append($0) }
    #expect(messages.filter { $0.contains("skipped") }.count >= 1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: shards.appendingPathComponent("train").path).sorted() == first)
    var options = TinyRun.options(dir.appendingPathComponent("run"), maxSteps: 3)
    options.dataFolder = shards.path
    let summary = try Trainer(config: config, yaml: yaml, options: options).run()
    #expect(summary.losses.count == 3 && summary.losses.allSatisfy { $0.isFinite && $0 > 0 })
  }

  /// Precompute stores several random crops of each training image, drawn as training draws them,
  /// and the low-resolution image's own latent, so a latent-space upsampling mode trains from shards
  /// without encoding (and says so when shards lack it).
  @Test func shardsHoldRandomCropsAndTheLatentOfTheLowResolutionImage() throws {
    let dir = try temporaryDirectory("shard-crops")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (config, yaml) = try TinyRun.config(["model.params.upsampling_mode=bilinear", "data.params.random_rot90=true"])
    let shards = dir.appendingPathComponent("shards")
    try LatentShards.precompute(folder: Shared.photo(""), output: shards, config: config, shardSize: 1000, cropsPerImage: 3) { _ in }
    let train = try SafeTensorsFile(path: shards.appendingPathComponent("train/shard-000000.safetensors").path)
    let sources = try #require(train.metadata["sources"]).split(separator: "\n")
    let images = Set(sources)
    #expect(sources.count == 3 * images.count && images.allSatisfy { name in sources.filter { $0 == name }.count == 3 })
    #expect(train.metadata["crops_per_image"] == "3")
    // The three crops of one photo differ (random positions and orientations, not one centre crop).
    let crops = try train.tensor("image")
    let same = try #require(sources.indices.filter { sources[$0] == sources[0] })
    #expect(try crops.select(dim: 0, index: same[0]).to(.float32).equal(crops.select(dim: 0, index: same[1]).to(.float32)) == false)
    // latent_small is the low-resolution image's latent (pixel space here: the image itself, 16 px).
    let small = try train.tensor("latent_small")
    #expect(small.shape == [sources.count, 3, 16, 16])
    let image = try crops.select(dim: 0, index: 0).unsqueeze(dim: 0).to(.float32) / 127.5 - 1
    let expected = try image.interpolate(size: (16, 16), mode: .bilinear)
    #expect(try (small.select(dim: 0, index: 0).unsqueeze(dim: 0) - expected).abs().max().item() < 1.0 / 127.5 + 1e-6)
    let validation = try SafeTensorsFile(path: shards.appendingPathComponent("validation/shard-000000.safetensors").path)
    #expect(validation.metadata["crops_per_image"] == "1")
    // Training in bilinear mode from these shards gives no warning; without latent_small it does.
    var logged: [String] = []
    var options = TinyRun.options(dir.appendingPathComponent("run"), maxSteps: 1)
    options.dataFolder = shards.path
    options.log = { logged.append($0) }
    _ = try Trainer(config: config, yaml: yaml, options: options).run()
    #expect(!logged.contains { $0.contains("warning") }, "\(logged)")
    let stripped = try train.tensors().filter { $0.key != "latent_small" }.sorted { $0.key < $1.key }
    try SafeTensors.write(stripped, metadata: train.metadata, to: URL(fileURLWithPath: train.path))
    logged.removeAll()
    options.runDirectory = dir.appendingPathComponent("run2")
    _ = try Trainer(config: config, yaml: yaml, options: options).run()
    #expect(logged.contains { $0.contains("warning: these shards hold no latent_small") }, "\(logged)")
  }

  @Test func shardsFollowTheLowResDownsamplingAndRecordTheirRecipe() throws {
    let dir = try temporaryDirectory("shard-recipe")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (bilinear, _) = try TinyRun.config(["model.params.upsampling_mode=psu"])
    let (bicubic, bicubicYAML) = try TinyRun.config(["model.params.upsampling_mode=psu", "model.params.low_res_downsampling=bicubic_antialias"])
    let shards = dir.appendingPathComponent("shards")
    try LatentShards.precompute(folder: Shared.photo(""), output: shards, config: bilinear, shardSize: 100) { _ in }
    // Training with another downsampling refuses these shards, naming the setting.
    var options = TinyRun.options(dir.appendingPathComponent("run"), maxSteps: 1)
    options.dataFolder = shards.path
    #expect { _ = try Trainer(config: bicubic, yaml: bicubicYAML, options: options) } throws: {
      "\($0)".contains("low_res_downsampling is bilinear in the shard but bicubic_antialias in the config")
    }
    // precompute with the new config rebuilds them, and latent_lowres is then the bicubic-antialiased PSU latent.
    var messages: [String] = []
    try LatentShards.precompute(folder: Shared.photo(""), output: shards, config: bicubic, shardSize: 100) { messages.append($0) }
    #expect(messages.contains { $0.contains("rebuilding") } && !messages.contains { $0.contains("skipped") })
    let file = try SafeTensorsFile(path: shards.appendingPathComponent("train/shard-000000.safetensors").path)
    #expect(file.metadata["low_res_downsampling"] == "bicubic_antialias" && file.metadata["first_stage"] == "none")
    let image = try file.tensor("image").select(dim: 0, index: 0).unsqueeze(dim: 0).to(.float32) / 127.5 - 1
    let expected = try image.interpolate(size: (16, 16), mode: .bicubic, antialias: true).interpolate(size: (32, 32), mode: .bilinear)
    let stored = try file.tensor("latent_lowres").select(dim: 0, index: 0).unsqueeze(dim: 0)
    // The stored image is the uint8 rounding of the crop the latent was made from: within 1/127.5.
    #expect(try (stored - expected).abs().max().item() < 1.0 / 127.5 + 1e-6)
    // ... and clearly not the bilinear one the original makes.
    let bilinearExpectation = try image.interpolate(size: (16, 16), mode: .bilinear).interpolate(size: (32, 32), mode: .bilinear)
    let (toBicubic, toBilinear) = (try (stored - expected).abs().mean().item(), try (stored - bilinearExpectation).abs().mean().item())
    #expect(toBicubic < toBilinear / 2, "mean error \(toBicubic) to the bicubic recipe, \(toBilinear) to the bilinear one")
    _ = try Trainer(config: bicubic, yaml: bicubicYAML, options: options)
    // Shards hold unscaled latents: another latent scale trains from the same shards.
    let (rescaled, rescaledYAML) = try TinyRun.config(["model.params.upsampling_mode=psu", "model.params.low_res_downsampling=bicubic_antialias",
                                                       "model.params.scale_factor=1.7"])
    _ = try Trainer(config: rescaled, yaml: rescaledYAML, options: options)
  }
}

/// One training step with the networks, the first stage and every batch on the `meta` device
/// (shapes only): any tensor the step makes on the CPU by mistake fails there, as on CUDA.
@Suite struct MetaDeviceTrainingTests {
  @Test func aTrainingStepRunsOnTheMetaDevice() throws {
    let dir = try temporaryDirectory("meta-step")
    defer { try? FileManager.default.removeItem(at: dir) }
    // Clipping and the logged gradient norm read values, which meta tensors do not have.
    let (config, yaml) = try TinyRun.config(["train.gradient_clip_val=null", "model.params.log_grad_norm=false"])
    var options = TinyRun.options(dir)
    options.device = .meta
    let trainer = try Trainer(config: config, yaml: yaml, options: options)
    #expect(trainer.flow.net.device == .meta && trainer.emaFlow.net.device == .meta)
    let (loss, x1) = try trainer.microBatchLoss(0)
    #expect(loss.device == .meta && loss.shape == [] && x1.device == .meta && x1.size(0) == 2)
    try trainer.ema.update()
    try loss.backward()
    #expect(trainer.flow.parameters().allSatisfy { $0.grad?.device == .meta })
    #expect(try trainer.applyGradients() == nil)
    #expect(trainer.flow.parameters().allSatisfy { $0.device == .meta })
  }
}
