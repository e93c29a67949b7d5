import FMBoost
import Foundation
import Imaging
import Pipelines
import Testing
import TestSupport
import Torch

@Suite(.serialized) struct UpsamplingPipelineTests {
  static func golden() -> UpsamplingPipeline.Configuration {
    var configuration = UpsamplingPipeline.Configuration(
      model: Shared.golden("unet_a.weights.safetensors"), autoencoder: [Shared.golden("vae_a.weights.safetensors")])
    configuration.overrides.steps = 2
    return configuration
  }

  static func photo() throws -> Picture {
    let full = try ImageFile.load(Shared.photo("chelsea.png"))
    let color = try full.color.narrow(dim: 1, start: 0, length: 24).narrow(dim: 2, start: 0, length: 40).contiguous()
    return Picture(color: color, alpha: nil, isGrey: false, bitDepth: 8, metadata: full.metadata)
  }

  /// The pipeline is the upsampler of the model file with its recipe and the overrides: the same pixels.
  @Test func givesTheUpsamplersPixels() throws {
    let pipeline = try UpsamplingPipeline(Self.golden())
    let loaded = try FlowModelLoader.load(Shared.golden("unet_a.weights.safetensors"))
    var recipe = loaded.recipe
    recipe.steps = 2
    #expect(pipeline.recipe == recipe)
    let upsampler = try Upsampler(flow: loaded.flow, autoencoder: pipeline.autoencoder, recipe: recipe)
    let picture = try Self.photo()
    let direct = try upsampler.upsample(picture: picture, stages: 1, generator: Generator(seed: 5)).picture
    let result = try pipeline.upsample(picture, seed: 5)
    #expect(try result.picture.color.equal(direct.color))
    #expect(result.evaluations == 2 && result.haloTiles == 0)
  }

  @Test func aHandlerThatSaysStopCancels() throws {
    let pipeline = try UpsamplingPipeline(Self.golden())
    var calls = 0
    #expect(throws: PipelineError.cancelled) {
      _ = try pipeline.upsample(try Self.photo()) { _ in
        calls += 1
        return false
      }
    }
    #expect(calls == 1)
  }

  /// Overrides are validated once, by the recipe, and the error names the recipe's field.
  @Test func badOverridesNameTheField() throws {
    var configuration = Self.golden()
    configuration.overrides.latentScale = -1
    #expect(throws: RecipeError(.latentScale, "must be a positive number, got -1.0")) { try UpsamplingPipeline(configuration) }
    configuration = Self.golden()
    configuration.overrides.tilePixels = 13  // not a multiple of the first stage's factor
    #expect { try UpsamplingPipeline(configuration) } throws: { ($0 as? RecipeError)?.field == .tile }
    configuration = Self.golden()
    configuration.autoencoder = nil
    #expect { try UpsamplingPipeline(configuration) } throws: {
      if case PipelineError.needsAutoencoder = $0 { return true } else { return false }
    }
  }
}
