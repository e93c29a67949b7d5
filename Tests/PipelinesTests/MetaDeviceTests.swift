import Evaluation
import FMBoost
import Foundation
import Imaging
import Pipelines
import StableDiffusion
import Testing
import TestSupport
import Torch

/// Every pipeline with its networks on the `meta` device: operations run for their shapes only,
/// and a tensor the code makes on the CPU by mistake meets a meta one and fails ("Expected all
/// tensors to be on the same device"), as it would on CUDA. Inputs come from the CPU, as images
/// read from files do; the results stay on meta (nothing to copy back).
@Suite struct MetaDeviceTests {
  static func photo(width: Int = 40, height: Int = 24) throws -> Picture {
    let full = try ImageFile.load(Shared.photo("chelsea.png"))
    return Picture(color: try full.color.narrow(dim: 1, start: 0, length: height).narrow(dim: 2, start: 0, length: width).contiguous())
  }

  /// The paper's networks at full size (the 306 M-parameter UNet, SD's autoencoder), never allocated.
  @Test func upsamplesWithThePaperConfiguration() throws {
    let net = try EfficientUNet(.base, device: .meta)
    let pipeline = try UpsamplingPipeline(flow: CouplingFlowMatching(net: net), autoencoder: AutoencoderKL(.stableDiffusion, device: .meta),
                                          recipe: UpsamplingRecipe())
    #expect(pipeline.device == .meta && pipeline.recipe.steps == 20 && pipeline.recipe.noisingStep == 400)
    // 40×24 is not a multiple of the model's 64 px: padded, upsampled, cropped, on the device.
    let result = try pipeline.upsample(try Self.photo(), stages: 2)
    #expect(result.picture.color.shape == [3, 96, 160] && result.picture.color.device == .meta)
    #expect(result.evaluations == 40)
    let batch = try pipeline.upsample(symmetric: Tensor.zeros([2, 3, 64, 64]), stages: 1)
    #expect(batch.shape == [2, 3, 128, 128] && batch.device == .meta)
  }

  /// The shipped model loaded straight onto the device, whole and in halo tiles.
  @Test func upsamplesWithTheDefaultModel() throws {
    var configuration = UpsamplingPipeline.Configuration()
    configuration.device = .meta
    let pipeline = try UpsamplingPipeline(configuration)
    #expect(pipeline.flow.net.namedSlots().allSatisfy { $0.1.value.device == .meta })
    let whole = try pipeline.upsample(try Self.photo(), stages: 2)
    #expect(whole.picture.color.shape == [3, 96, 160] && whole.picture.color.device == .meta && whole.haloTiles == 0)
    configuration.overrides.tilePixels = 32
    let tiled = try UpsamplingPipeline(configuration).upsample(try Self.photo(width: 96, height: 64))
    #expect(tiled.picture.color.shape == [3, 128, 192] && tiled.haloTiles > 1)
  }

  /// Text → base latent → decode → boost by the default model, with the SD1.5-topology test model.
  @Test func generatesWithTheTinyStableDiffusion() throws {
    var configuration = TextToImagePipeline.Configuration(model: try TinyStableDiffusion.singleFile())
    (configuration.vocabulary, configuration.device) = (TinyStableDiffusion.vocabulary, .meta)
    let pipeline = try TextToImagePipeline(configuration)
    for sampler in [SamplerKind.eulerAncestral, .dpmSolver] {
      var settings = TextToImageSettings(prompt: "a red bicycle", sampler: sampler, steps: 2, guidance: 7.5, seed: 3)
      (settings.width, settings.height) = (64, 48)
      var made: [Tensor] = []
      try pipeline.generate(settings, seeds: [3, 4]) { made.append($0.image) }
      #expect(made.map(\.shape) == [[1, 3, 96, 128], [1, 3, 96, 128]] && made.allSatisfy { $0.device == .meta })
    }
  }

  /// `eval --fid` and `fid`: the Inception network on the device (the models are the upsampler above).
  @Test func computesFIDFeatures() throws {
    let inception = try FIDInception(path: FIDInception.locate(), device: .meta)
    let features = try inception.features(Tensor.zeros([2, 3, 299, 299]))
    #expect(features.shape == [2, 2048] && features.device == .meta)
  }

  @Test func namesADeviceThatIsNotThere() throws {
    #expect(throws: DeviceError.self) { try Devices.resolve("cuda:1") }
    #expect(throws: DeviceError.unknown("tpu")) { try Devices.resolve("tpu") }
    #expect(try Devices.resolve("cpu") == .cpu && Devices.resolve("meta") == .meta)
    #expect(try Devices.resolve("auto") == (Devices.available.count > 1 ? Devices.available[1] : .cpu))
    if !Devices.cudaBuilt {
      var configuration = UpsamplingPipeline.Configuration()
      configuration.device = .cuda(0)
      #expect(throws: DeviceError.self) { try UpsamplingPipeline(configuration) }
    }
  }
}
