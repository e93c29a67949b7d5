import Checkpoint
import FMBoost
import Foundation
import NN
import Testing
import TestSupport
import Torch

@Suite struct UpsamplerTests {
  static func upsampler(_ configure: (inout UpsamplingRecipe) -> Void = { _ in }) throws -> Upsampler {
    var recipe = UpsamplingRecipe()
    recipe.steps = 2
    configure(&recipe)
    let vae = try AutoencoderLoader.load([Shared.golden("vae_a.weights.safetensors")])
    return try Upsampler(flow: CouplingFlowMatching(net: EfficientUNetTests.goldenUNet()), autoencoder: vae, recipe: recipe)
  }

  @Test func outputIsTwiceTheSizeAndSeeded() throws {
    let up = try Self.upsampler()
    let image = try Tensor.rand([2, 3, 16, 12], generator: Generator(seed: 0)) * 2 - 1
    let a = try up.upsample(image: image, generator: Generator(seed: 5))
    let b = try up.upsample(image: image, generator: Generator(seed: 5))
    #expect(a.image.shape == [2, 3, 32, 24])
    #expect(try #require(a.latent).shape == [2, 4, 16, 12])
    #expect(try a.image.equal(b.image))
    #expect(a.evaluations == 2)
    #expect(throws: TorchError.self) { try up.upsample(image: Tensor.zeros([1, 3, 15, 12])) }
  }

  /// A zero velocity field leaves x0 where it is: the result is the decoded, noise-augmented PSU
  /// latent, which checks the pipeline's plumbing against the formulas.
  @Test func withAFreshNetworkTheFlowIsTheNoisedPSULatent() throws {
    var config = try EfficientUNetTests.goldenUNetConfig()
    config.dropout = 0
    let fresh = try CouplingFlowMatching(net: EfficientUNet(config, generator: Generator(seed: 3)))
    let vae = try AutoencoderLoader.load([Shared.golden("vae_a.weights.safetensors")])
    var recipe = UpsamplingRecipe()
    recipe.steps = 3
    let up = try Upsampler(flow: fresh, autoencoder: vae, recipe: recipe)
    let image = try Tensor.rand([1, 3, 8, 8], generator: Generator(seed: 1)) * 2 - 1
    let out = try up.upsample(image: image, generator: Generator(seed: 9))
    let psu = try withNoGrad { try vae.encode(image.interpolate(size: (16, 16), mode: .bilinear)) * 0.18215 }
    let noised = try ForwardDiffusion().qSample(psu, step: 400, generator: Generator(seed: 9))
    #expect(try #require(out.latent).maxAbsDifference(noised) < 1e-5)
  }

  @Test func latentModesHaveTheRightShapes() throws {
    let z = try Tensor.randn([1, 4, 8, 8], generator: Generator(seed: 0))
    for mode in [UpsamplingMode.bilinear, .nearest, .bicubic, .noiseUpsampling] {
      #expect(try upsampleLatent(z, to: (16, 16), mode: mode, generator: Generator(seed: 1)).shape == [1, 4, 16, 16])
    }
    let noisy = try upsampleLatent(z, to: (16, 16), mode: .noiseUpsampling, generator: Generator(seed: 1))
    #expect(try noisy.slice(dim: 2, step: 2).slice(dim: 3, step: 2).equal(z))
    #expect(try upsampleLatent(z, to: (16, 16), mode: .identity).shape == [1, 4, 8, 8])
    #expect(try upsampleLatent(z, to: (8, 8), mode: .psu).equal(z))  // already the target size
  }
}
