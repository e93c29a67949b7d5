import FMBoost
import Foundation
import TestSupport
import Testing
import Training

@Suite struct ConfigTests {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  @Test func papersConfigParsesAndBuildsTheNetwork() throws {
    let tree = try ConfigTree(path: Self.repo.appendingPathComponent("configs/flow400_64-128/unet-base_psu.yaml").path)
    let config = try TrainingConfig(tree)
    #expect(config.net == .base)
    #expect(config.firstStage == .stableDiffusion(checkpoint: "checkpoints/sd_ae.ckpt"))
    #expect(config.scaleFactor == 0.18215 && config.noisingStep == 400 && config.upsamplingMode == .psu)
    #expect(config.lr == 3e-5 && config.emaRate == 0.999 && config.emaUpdateAfterStep == 1000)
    #expect(config.schedule == .constantWithWarmup(warmupSteps: 1000))
    let net = try EfficientUNet(config.net, device: .meta)
    #expect(net.parameterCount == 305_806_340)
  }

  @Test(arguments: [("default-2x", 2), ("default-4x", 4)])
  func defaultModelsConfigsAreLocalNetworks(name: String, scale: Int) throws {
    let config = try TrainingConfig(ConfigTree(path: Self.repo.appendingPathComponent("configs/\(name).yaml").path))
    #expect(!config.net.useGroupNorm && !config.net.middleAttention && config.net.attentionResolutions.isEmpty)
    #expect(config.timestepPower == 16 && config.velocityLoss == .l1)
    #expect(try config.recipe().scale == scale && config.firstStage.downsamplingFactor == scale)
    let net = try EfficientUNet(config.net, device: .meta)
    #expect(!net.stateDict().contains { $0.0.hasPrefix("middle_block.2.") || $0.0.hasSuffix(".norm.weight") })
  }

  /// A model file records the scale it was trained for; a ratio that is not whole cannot be a stage.
  @Test func theRecipeRecordsTheTrainingScale() throws {
    func recipe(_ overrides: [String]) throws -> UpsamplingRecipe {
      let tree = try ConfigTree(path: Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path)
      try tree.apply(overrides: overrides)
      return try TrainingConfig(tree).recipe()
    }
    #expect(try recipe([]).scale == 2)
    #expect(try recipe(["model.params.low_res_size=16"]).scale == 4)
    #expect { try recipe(["model.params.low_res_size=24"]) } throws: { "\($0)".contains("high_res_size 64 is not a whole multiple of low_res_size 24") }
  }

  @Test func overridesAreDotlistsAndUnknownKeysAreRejected() throws {
    let tree = try ConfigTree(path: Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path)
    try tree.apply(overrides: ["model.params.lr=1e-3", "train.max_steps=7", "model.params.fm_cfg.params.net_cfg.params.channel_mult=[1, 2]"])
    let config = try TrainingConfig(tree)
    #expect(config.lr == 1e-3 && config.maxSteps == 7 && config.net.channelMult == [1, 2])

    let bad = try ConfigTree(path: Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path)
    try bad.apply(overrides: ["model.params.lrr=1e-3"])
    #expect {
      try TrainingConfig(bad)
    } throws: { error in
      let text = "\(error)"
      return text.contains("unknown key 'model.params.lrr'") && text.contains("lr,") && text.contains("weight_decay")
    }
    let wrongType = try ConfigTree(path: Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path)
    try wrongType.apply(overrides: ["train.max_steps=many"])
    #expect { try TrainingConfig(wrongType) } throws: { "\($0)".contains("train.max_steps must be an integer") }
    #expect(throws: ConfigError.self) { try bad.apply(overrides: ["novalue"]) }
    #expect(throws: ConfigError.self) { try bad.apply(overrides: [".=3"]) }
    #expect(throws: ConfigError.self) { try bad.apply(overrides: ["model..lr=3"]) }
  }
}
