import FMBoost
import NN
import TestSupport
import Testing
import Torch

@Suite struct TilingTests {
  @Test func identityTilesReassembleExactly() throws {
    let x = try Tensor.randn([1, 3, 37, 53], generator: Generator(seed: 0))
    let tiling = try Tiling(tile: 16, overlap: 4)
    let y = try tiling.apply(x, scale: 1) { $0 }
    #expect(try y.maxAbsDifference(x) < 1e-6)
  }

  @Test func localNetworksTileWithoutSeams() throws {
    // Nearest ×2 then two 3×3 convolutions: a receptive field of 2 latent positions, inside the
    // overlap, so tiled and whole results agree to rounding.
    let g = try Generator(seed: 1)
    let conv1 = try Conv2d(4, 8, kernelSize: 3, padding: 1, generator: g), conv2 = try Conv2d(8, 3, kernelSize: 3, padding: 1, generator: g)
    func network(_ z: Tensor) throws -> Tensor { try conv2(conv1(z.interpolate(scaleFactor: 2, mode: .nearest)).silu()) }
    let z = try Tensor.randn([2, 4, 40, 30], generator: g)
    let whole = try withNoGrad { try network(z) }
    let tiled = try Tiling(tile: 12, overlap: 6).apply(z, scale: 2, network)
    #expect(tiled.shape == whole.shape)
    #expect(try tiled.maxAbsDifference(whole) < 1e-5)
  }

  @Test func rejectsBadSettings() {
    #expect(throws: TorchError.self) { try Tiling(tile: 8, overlap: 8) }
    #expect(throws: TorchError.self) { try Tiling(tile: 0, overlap: 0) }
  }
}
