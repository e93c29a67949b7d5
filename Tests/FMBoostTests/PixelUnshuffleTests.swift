import FMBoost
import Foundation
import Testing
import Torch

@Suite struct PixelUnshuffleTests {
  /// PyTorch's pixel_unshuffle layout: channel c·f² + i·f + j at (y, x) holds pixel (c, f·y + i, f·x + j).
  @Test func encodeFollowsPyTorchChannelOrderAndDecodeInvertsIt() throws {
    let f = 4
    let ae = try PixelUnshuffleAutoencoder(factor: f)
    let (c, h, w) = (3, 8, 12)
    let image = try Tensor.arange(0, Double(2 * c * h * w)).reshape([2, c, h, w])
    let latent = try ae.encode(image)
    #expect(latent.shape == [2, c * f * f, h / f, w / f])
    #expect(ae.latentChannels == 48 && ae.downsamplingFactor == 4 && ae.kind == "pixel-unshuffle-4")
    let values = try latent.toArray(Float.self), pixels = try image.toArray(Float.self)
    for (b, ch, i, j, y, x) in [(0, 0, 0, 0, 0, 0), (1, 2, 3, 1, 1, 2), (0, 1, 2, 3, 0, 1), (1, 0, 1, 2, 1, 0)] {
      let channel = ch * f * f + i * f + j
      let got = values[((b * c * f * f + channel) * (h / f) + y) * (w / f) + x]
      let want = pixels[((b * c + ch) * h + f * y + i) * w + f * x + j]
      #expect(got == want, "channel \(channel) at (\(y), \(x))")
    }
    #expect(try ae.decode(latent).equal(image))
    #expect(throws: TorchError.self) { try ae.encode(Tensor.zeros([1, 3, 6, 8])) }
    #expect(throws: TorchError.self) { try ae.decode(Tensor.zeros([1, 47, 2, 2])) }
  }

  @Test func recipesNameTheBuiltInFirstStages() throws {
    var recipe = UpsamplingRecipe(firstStage: .init("pixel-unshuffle-2"), latentScale: 1.8, mode: .psu, noisingStep: -1,
                                  startFromNoise: false, lowResDownsampling: "bicubic_antialias", method: .euler, steps: 4)
    #expect(try recipe.firstStage?.builtIn()?.kind == "pixel-unshuffle-2")
    recipe.firstStage = .init("identity")
    #expect(try recipe.firstStage?.builtIn()?.kind == "identity")
    recipe.firstStage = .init("sd-vae")
    #expect(try recipe.firstStage?.builtIn() == nil)
    let decoded = try JSONDecoder().decode(UpsamplingRecipe.self, from: Data(try recipe.json().utf8))
    #expect(decoded.latentScale == 1.8 && decoded.steps == 4 && decoded.noisingStep == -1 && decoded.firstStage == .stableDiffusionVAE)
  }
}
