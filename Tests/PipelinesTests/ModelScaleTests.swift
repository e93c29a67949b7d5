import FMBoost
import Foundation
import Imaging
import Pipelines
import Testing
import TestSupport
import Torch

/// A model's scale (high_res_size / low_res_size, recorded by `fmboost export`) is how much one
/// stage enlarges: a ×4 model takes a 16 px image to 64 px in one stage, and eval compares it with
/// bicubic ×4.
@Suite struct ModelScaleTests {
  /// A fresh golden-shaped network (zero output layer: zero velocity), so the result is the
  /// decoded PSU latent and the test can check where it comes from.
  static func pipeline(scale: Int) throws -> UpsamplingPipeline {
    var config = try FlowModelLoader.load(Shared.golden("unet_a.weights.safetensors")).flow.net.config
    config.dropout = 0
    let flow = try CouplingFlowMatching(net: EfficientUNet(config, generator: Generator(seed: 3)))
    let vae = try AutoencoderLoader.load([Shared.golden("vae_a.weights.safetensors")])
    var recipe = UpsamplingRecipe(scale: scale, noisingStep: 0, steps: 2)
    recipe.memoryBudget = nil
    return try UpsamplingPipeline(flow: flow, autoencoder: vae, recipe: recipe)
  }

  @Test func recipesRecordTheScaleAndOldFilesMeanTwo() throws {
    var recipe = UpsamplingRecipe(firstStage: .pixelUnshuffle(factor: 4), scale: 4, latentScale: 1)
    let decoded = try JSONDecoder().decode(UpsamplingRecipe.self, from: Data(try recipe.json().utf8))
    #expect(decoded.scale == 4 && decoded == recipe)
    // A file exported before the key existed (and every checkpoint of the original) is ×2.
    let old = #"{"first_stage":"pixel-unshuffle-2","scale_factor":1.8,"upsampling_mode":"psu","noising_step":-1,"start_from_noise":false,"low_res_downsampling":"bicubic_antialias","method":"euler","steps":1}"#
    #expect(try JSONDecoder().decode(UpsamplingRecipe.self, from: Data(old.utf8)).scale == 2)
    for bad in [0, 17] {
      recipe.scale = bad
      #expect { try recipe.validate() } throws: { "\($0)".contains("the model's scale must be 1 to 16, got \(bad)") }
    }
  }

  @Test func aScaleFourModelEnlargesFourTimesPerStage() throws {
    let pipeline = try Self.pipeline(scale: 4)
    let upsampler = try pipeline.makeUpsampler()
    let image = try Tensor.rand([1, 3, 8, 12], generator: Generator(seed: 1)) * 2 - 1
    let out = try upsampler.upsample(image: image)
    #expect(out.image.shape == [1, 3, 32, 48])
    let psu = try withNoGrad { try pipeline.autoencoder.encode(image.interpolate(size: (32, 48), mode: .bilinear)) * 0.18215 }
    #expect(try #require(out.latent).maxAbsDifference(psu) < 1e-5)
    // Any size, and stages multiply: 2 stages of ×4 from 5×7 px are 80×112.
    let odd = try Tensor.rand([1, 3, 5, 7], generator: Generator(seed: 2)) * 2 - 1
    #expect(try upsampler.cascade(image: odd, stages: 2).image.shape == [1, 3, 80, 112])
    #expect(pipeline.scale(stages: 2) == 16)
  }

  @Test func stagesReachTheAskedFactorInTheModelsSteps() throws {
    let (x2, x4) = (try Self.pipeline(scale: 2), try Self.pipeline(scale: 4))
    #expect([1.5, 2, 2.5, 4, 4.1, 100].map { x2.stages(reaching: $0) } == [1, 1, 2, 2, 3, 4])
    #expect([1.5, 4, 4.1, 16, 17].map { x4.stages(reaching: $0) } == [1, 1, 2, 2, 3])
    #expect(x4.stages(reaching: 1000, limit: 3) == 3)
  }

  @Test func evalComparesAScaleFourModelWithBicubicFour() throws {
    var configuration = EvaluationPipeline.Configuration()
    configuration.stepCounts = [1]
    let evaluation = try EvaluationPipeline(try Self.pipeline(scale: 4), configuration: configuration)
    #expect(evaluation.comparison.scale == 4)
    let photo = try ImageFile.read(Shared.photo("chelsea.png"), range: .symmetric).narrow(dim: 1, start: 0, length: 64)
      .narrow(dim: 2, start: 0, length: 96).unsqueeze(dim: 0).contiguous()
    let (scores, _) = try evaluation.comparison.evaluate(photo, name: "chelsea", anchorSeed: 1)
    #expect(scores.count == 3 && scores.allSatisfy { $0.psnr.isFinite })
    // The same photo from a ×2 downscale: bicubic ×4 loses far more than bicubic ×2.
    let twice = try EvaluationPipeline(try Self.pipeline(scale: 2), configuration: configuration)
    #expect(twice.comparison.scale == 2)
    let bicubic2 = try #require(try twice.comparison.evaluate(photo, name: "chelsea", anchorSeed: 1).scores.first { $0.method == "bicubic" })
    let bicubic4 = try #require(scores.first { $0.method == "bicubic" })
    #expect(bicubic4.psnr < bicubic2.psnr - 2, "\(bicubic4.psnr) vs \(bicubic2.psnr)")
    let mixed = [UpsamplingComparison.Model(label: "a", upsampler: try Self.pipeline(scale: 2).makeUpsampler()),
                 UpsamplingComparison.Model(label: "b", upsampler: try Self.pipeline(scale: 4).makeUpsampler())]
    #expect { try UpsamplingComparison(models: mixed) } throws: { "\($0)".contains("different scales: [2, 4]") }
  }
}
