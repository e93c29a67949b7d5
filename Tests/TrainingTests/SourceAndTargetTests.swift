import FMBoost
import Foundation
import TestSupport
import Testing
import Torch
import Training

/// `Trainer.sourceAndTarget` against spec 6.2–6.4, written out per upsampling mode, on a ×2 model
/// over a pixel-unshuffle ×2 first stage: low_res_size (16) equals the high-res latent size
/// (32 / 2), the case in which the low-resolution image has the latent's spatial size.
@Suite struct SourceAndTargetTests {
  static let scale = 1.5

  func trainer(_ mode: UpsamplingMode, noisingStep: Int = 0) throws -> Trainer {
    let n = "model.params.fm_cfg.params.net_cfg.params."
    // identity keeps the low-resolution latent as it is: it needs the two sizes equal.
    let (config, yaml) = try TinyRun.config((mode == .identity ? ["model.params.low_res_size=32"] : []) + [
      "model.params.first_stage_cfg.target=fmboost.pixel_unshuffle.PixelUnshuffle", "model.params.first_stage_cfg.params.factor=2",
      "model.params.scale_factor=\(Self.scale)", "model.params.upsampling_mode=\(mode.rawValue)",
      "model.params.noising_step=\(noisingStep)", n + "in_channels=24", n + "out_channels=12",
    ])
    let dir = try temporaryDirectory("source-target")
    return try Trainer(config: config, yaml: yaml, options: TinyRun.options(dir))
  }

  func images() throws -> Tensor { try Tensor.rand([2, 3, 32, 32], generator: Generator(seed: 7)) * 2 - 1 }

  func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Double { try (a - b).abs().max().item() }

  @Test(arguments: [UpsamplingMode.psu, .bilinear, .nearest, .bicubic, .identity])
  func matchesTheSpec(mode: UpsamplingMode) throws {
    let images = try images()
    let (x1, x0, context) = try trainer(mode).sourceAndTarget(Batch(image: images), generator: Generator(seed: 1))
    let unshuffle = try PixelUnshuffleAutoencoder(factor: 2)
    // 6.2: hres_z = E(image)·scale; lres_ims = bilinear downscale to low_res_size.
    let expectedX1 = try unshuffle.encode(images) * Self.scale
    let lowRes = try images.interpolate(size: mode == .identity ? (32, 32) : (16, 16), mode: .bilinear)
    let expectedContext: Tensor
    switch mode {
    case .psu:  // 6.3: E(bilinear_up(lres_ims))·scale at the high-res latent size.
      expectedContext = try unshuffle.encode(lowRes.interpolate(size: (32, 32), mode: .bilinear)) * Self.scale
    case .identity:
      expectedContext = try unshuffle.encode(lowRes) * Self.scale
    case .bilinear, .nearest, .bicubic:
      let interpolation: InterpolationMode = mode == .bilinear ? .bilinear : mode == .nearest ? .nearest : .bicubic
      expectedContext = try (unshuffle.encode(lowRes) * Self.scale).interpolate(size: (16, 16), mode: interpolation)
    case .noiseUpsampling:
      Issue.record("covered by noiseUpsamplingKeepsTheLattice")
      return
    }
    #expect(x1.shape == [2, 12, 16, 16] && context.shape == [2, 12, 16, 16])
    #expect(try maxDifference(x1, expectedX1) == 0)
    #expect(context.shape == expectedContext.shape, "\(mode): context \(context.shape), expected \(expectedContext.shape)")
    #expect(try maxDifference(context, expectedContext) < 1e-6, "\(mode)")
    // 6.4: without start_from_noise and noise augmentation, the source is the context itself.
    #expect(try maxDifference(x0, context) == 0)
  }

  @Test func noiseUpsamplingKeepsTheLattice() throws {
    let images = try images()
    let (_, _, context) = try trainer(.noiseUpsampling).sourceAndTarget(Batch(image: images), generator: Generator(seed: 1))
    let low = try PixelUnshuffleAutoencoder(factor: 2).encode(images.interpolate(size: (16, 16), mode: .bilinear)) * Self.scale
    #expect(context.shape == [2, 12, 16, 16])
    let lattice = try context.slice(dim: 2, step: 2).slice(dim: 3, step: 2)
    #expect(try maxDifference(lattice, low) == 0)
    // Off the lattice: fresh N(0, 1) noise, not the latent.
    let off = try context.slice(dim: 2, start: 1, step: 2)
    #expect(try off.std().item() > 0.8 && off.std().item() < 1.2)
  }

  @Test func noiseAugmentationIsQSampleOfTheContext() throws {
    let images = try images()
    let noise = try (0..<2).map { _ in try Tensor.randn([12, 16, 16], generator: Generator(seed: 3)) }
    let (_, x0, context) = try trainer(.psu, noisingStep: 400).sourceAndTarget(Batch(image: images), generator: Generator(seed: 1), noise: noise)
    // Spec 5: alpha_bar[400] = 0.65390396.
    let a = 0.65390396
    let expected = try context * a.squareRoot() + Tensor.stack(noise) * (1 - a).squareRoot()
    #expect(try maxDifference(x0, expected) < 1e-5)
  }
}
