import FMBoost
import Testing
import Torch

/// `encodeWhole` / `decodeWhole`: what `fmboost encode` and `decode` do to one file.
@Suite struct WholeImageCodingTests {
  @Test func encodeCentreCropsToTheFactorAndDecodeGivesTheCropBack() throws {
    let ae = try PixelUnshuffleAutoencoder(factor: 4)
    let image = try Tensor.randn([3, 34, 37], generator: Generator(seed: 1))
    let latent = try ae.encodeWhole(image)
    #expect(latent.shape == [48, 8, 9])
    // Rows 1..<33 ((34 − 32) / 2 = 1) and columns 0..<36 ((37 − 36) / 2 = 0).
    let crop = try image.narrow(dim: 1, start: 1, length: 32).narrow(dim: 2, start: 0, length: 36)
    #expect(try ae.decodeWhole(latent).squeeze(dim: 0).maxAbsDifference(crop) == 0)
    // In tiles of 4 latent positions, the lossless first stage gives the same latent.
    #expect(try ae.encodeWhole(image, tile: 4).maxAbsDifference(latent) < 1e-6)
  }

  @Test func sizesAndShapesThatDoNotFitAreRefused() throws {
    let ae = try PixelUnshuffleAutoencoder(factor: 4)
    #expect(throws: TorchError.invalidArgument("smaller than 4×4 pixels")) { try ae.encodeWhole(Tensor.zeros([3, 3, 40])) }
    #expect(throws: TorchError.invalidArgument("latent shape [5, 2, 3] does not fit a 48-channel pixel-unshuffle-4")) {
      try ae.decodeWhole(Tensor.zeros([5, 2, 3]))
    }
  }
}
