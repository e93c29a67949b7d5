import FMBoost
import Foundation
import TestSupport
import Testing
import Torch
import Training

/// Every config value that used to trap, fail hours later or be dropped silently: refused when the
/// config is read, with the key in the message — or honoured.
@Suite struct ConfigValidationTests {
  func config(_ overrides: [String]) throws -> TrainingConfig {
    let tree = try ConfigTree(path: ConfigTests.repo.appendingPathComponent("configs/cpu-tiny.yaml").path)
    try tree.apply(overrides: overrides)
    return try TrainingConfig(tree)
  }

  @Test(arguments: [
    ("model.params.low_res_size=0", "low_res_size must be positive"),
    ("train.seed=-3", "train.seed must be 0 or more"),
    ("model.params.n_images_to_vis=-1", "n_images_to_vis must be 0"),
    ("train.val_steps=0", "train.val_steps must be at least 1"),
    ("model.params.high_res_size=66", "high_res_size 66 must be a multiple of 4 (the UNet's divisor 4"),
    ("model.params.scale_factor=0", "scale_factor must be a positive number"),
    ("train.precision=16-mixed", "precision 16-mixed is not supported"),
    ("train.max_epochs=0", "max_epochs must be -1 (no limit) or positive"),
    ("train.devices=0", "devices must be a positive number"),
    ("train.num_nodes=0", "num_nodes must be at least 1"),
    ("data.params.num_workers=-1", "num_workers must be 0 or more"),
    ("model.params.upsampling_mode=identity", "identity needs low_res_size == high_res_size"),
    ("model.params.timestep_power=0", "timestep_power must be positive"),
    ("model.params.velocity_loss=l3", "velocity_loss must be mse or l1, got l3"),
  ])
  func refusedWithTheKey(override: String, message: String) throws {
    #expect { _ = try config([override]) } throws: { "\($0)".contains(message) }
  }

  @Test func sizesMustFitTheFirstStage() throws {
    // pixel-unshuffle ×4 under a UNet with divisor 4: high-res crops must be multiples of 16.
    let base = [
      "model.params.first_stage_cfg.target=fmboost.pixel_unshuffle.PixelUnshuffle", "model.params.first_stage_cfg.params.factor=4",
      "model.params.fm_cfg.params.net_cfg.params.in_channels=96", "model.params.fm_cfg.params.net_cfg.params.out_channels=48",
    ]
    #expect { _ = try config(base + ["model.params.high_res_size=72", "model.params.low_res_size=36"]) } throws: {
      "\($0)".contains("must be a multiple of 16 (the UNet's divisor 4 × the first stage's factor 4)")
    }
    #expect { _ = try config(base + ["model.params.high_res_size=64", "model.params.low_res_size=30"]) } throws: {
      "\($0)".contains("low_res_size 30 must be a multiple of the first stage's factor 4")
    }
    // PSU resizes the low-resolution image in pixel space: any low-res size works.
    _ = try config(base + ["model.params.high_res_size=64", "model.params.low_res_size=30", "model.params.upsampling_mode=psu"])
  }

  @Test func trainerKeysAreHonoured() throws {
    let c = try config(["train.precision=bf16-mixed", "train.max_epochs=3", "train.devices=2", "train.num_nodes=1", "data.params.num_workers=0"])
    #expect(c.precision == .bf16Mixed && c.maxEpochs == 3 && c.devices == 2 && c.nodes == 1 && c.workers == 0)
    let defaults = try config([])
    #expect(defaults.precision == .fp32 && defaults.maxEpochs == nil && defaults.devices == nil && defaults.workers == 1)
    #expect(try config(["train.precision=32-true"]).precision == .fp32)
    // An optional key set to null means "not set", not an unknown key.
    #expect(try config(["data.params.max_short_side=null"]).maxShortSide == nil)
    #expect(try config(["data.params.max_short_side=300"]).maxShortSide == 300)
  }

  @Test func maxEpochsBoundsTheRun() throws {
    let dir = try temporaryDirectory("epochs")
    defer { try? FileManager.default.removeItem(at: dir) }
    // 8 photos in data/photos, a 20 % validation split by hash; batch 2: one epoch is a few steps.
    let (config, yaml) = try TinyRun.config(["train.max_epochs=1"])
    let training = try ImageFolderDataset(folder: Shared.photo(""), split: .train, validationFraction: config.validationFraction,
                                          size: config.highResSize, flip: false, seed: 0)
    let expected = (training.files.count + 1) / 2
    let summary = try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir, maxSteps: 100)).run()
    #expect(summary.steps == expected, "\(summary.steps) steps for \(training.files.count) images")
  }

  @Test func bf16MixedTrainsUnderAutocast() throws {
    // Under autocast a convolution computes in bfloat16; outside it, in float32.
    let g = try Generator(seed: 0)
    let x = try Tensor.randn([1, 3, 8, 8], generator: g), w = try Tensor.randn([4, 3, 3, 3], generator: g)
    #expect(try withAutocast(.bfloat16) { try x.conv2d(w) }.dtype == .bfloat16)
    #expect(try x.conv2d(w).dtype == .float32)
    let dir = try temporaryDirectory("bf16")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (fp32, yaml) = try TinyRun.config([])
    let (bf16, _) = try TinyRun.config(["train.precision=bf16-mixed"])
    let a = try Trainer(config: fp32, yaml: yaml, options: TinyRun.options(dir.appendingPathComponent("a"), maxSteps: 2)).run()
    let b = try Trainer(config: bf16, yaml: yaml, options: TinyRun.options(dir.appendingPathComponent("b"), maxSteps: 2)).run()
    // The same batches and draws: the losses agree to bfloat16's precision but not bit for bit.
    #expect(a.losses != b.losses)
    for (x, y) in zip(a.losses, b.losses) { #expect(abs(x - y) / x < 0.05, "\(a.losses) vs \(b.losses)") }
  }

  @Test func workersDoNotChangeWhatARunSees() throws {
    let dir = try temporaryDirectory("workers")
    defer { try? FileManager.default.removeItem(at: dir) }
    let runs = try ["0", "1", "3"].map { workers -> [Double] in
      let (config, yaml) = try TinyRun.config(["data.params.num_workers=\(workers)"])
      return try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir.appendingPathComponent(workers), maxSteps: 4)).run().losses
    }
    #expect(runs[0] == runs[1] && runs[1] == runs[2])
  }

  @Test func noSampleImagesIsAValidChoice() throws {
    let dir = try temporaryDirectory("no-samples")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (config, yaml) = try TinyRun.config(["model.params.n_images_to_vis=0", "train.val_check_interval=1"])
    let summary = try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir, maxSteps: 1)).run()
    #expect(summary.steps == 1)
    let csv = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)
    #expect(csv.contains("val_psnr") && csv.split(separator: "\n").count >= 3)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("samples").path).isEmpty)
  }

  @Test func validationComputesPatchFIDWhenTheConfigAsksForIt() throws {
    let dir = try temporaryDirectory("val-fid")
    defer { try? FileManager.default.removeItem(at: dir) }
    let inception = ConfigTests.repo.appendingPathComponent("data/inception/fid_inception_v3.pt").path
    try #require(FileManager.default.fileExists(atPath: inception), "run scripts/fetch-inception.sh (make test does)")
    let (config, yaml) = try TinyRun.config([
      "model.params.metric_tracker_cfg.target=fmboost.metrics.ImageMetricTracker", "model.params.metric_tracker_cfg.params.num_crops=4",
      "model.params.metric_tracker_cfg.params.crop_size=24", "model.params.metric_tracker_cfg.params.inception_path=\(inception)",
      "train.val_check_interval=1",
    ])
    #expect(config.patchFID && config.metricCrops == 4 && config.metricCropSize == 24)
    _ = try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir, maxSteps: 1)).run()
    let csv = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
    let header = csv[0].split(separator: ",", omittingEmptySubsequences: false)
    let row = try #require(csv.last { $0.split(separator: ",", omittingEmptySubsequences: false)[header.firstIndex(of: "val_fid")!] != "" })
    let fid = Double(row.split(separator: ",", omittingEmptySubsequences: false)[header.firstIndex(of: "val_fid")!])
    #expect(fid.map { $0.isFinite && $0 > 0 } == true, "\(row)")
  }
}
