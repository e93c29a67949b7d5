import FMBoost
import Foundation
import NN
import Testing
import TestSupport
import Torch

/// Halo tiles (HaloTiling): a local network's reach is bounded by `receptiveRadius`, and an image
/// upsampled in tiles that carry that much context gives the whole image's pixels, in less memory.
@Suite(.serialized) struct HaloTilingTests {
  /// The default model's shape at 16 channels: three levels, one residual block each, no norms, no attention.
  static func localConfig() -> EfficientUNetConfig {
    var c = LocalUNetTests.config(groupNorm: false, middleAttention: false)
    c.inChannels = 24
    c.outChannels = 12
    c.modelChannels = 16
    c.channelMult = [1, 1, 1]
    return c
  }

  /// A perturbation at one position changes the output within `receptiveRadius` of it and nowhere
  /// else, and the bound is not loose: the farthest change lies beyond 80 % of it.
  @Test func theReceptiveRadiusBoundsTheReach() throws {
    let config = Self.localConfig()
    let radius = try #require(config.receptiveRadius)
    #expect(radius == 75)  // the sum in EfficientUNetConfig+Locality.swift for this shape
    let net = try LocalUNetTests.randomNetwork(config)
    let g = try Generator(seed: 21)
    let side = (2 * radius + 64) / 4 * 4, centre = side / 2
    let x = try Tensor.randn([1, 12, side, side], generator: g), context = try Tensor.randn([1, 12, side, side], generator: g)
    let poked = try x.clone()
    try poked.narrow(dim: 2, start: centre, length: 1).narrow(dim: 3, start: centre, length: 1).add_(Tensor(scalar: Float(10)))
    let t = try Tensor([0.3] as [Float])
    let change = try withNoGrad { try (net(poked, t: t, context: context) - net(x, t: t, context: context)).abs().max([0, 1]) }
    let changed = try change.gt(0).toArray(Bool.self)
    var farthest = 0
    for (index, moved) in changed.enumerated() where moved {
      farthest = max(farthest, max(abs(index / side - centre), abs(index % side - centre)))
    }
    print("receptive radius: bound \(radius), farthest change \(farthest)")
    #expect(farthest <= radius, "a change \(farthest) positions away")
    #expect(farthest >= radius * 4 / 5, "the farthest change is \(farthest) positions away, the bound \(radius)")
    var global = config
    global.useGroupNorm = true
    #expect(global.receptiveRadius == nil)
    global = config
    global.attentionResolutions = [2]
    #expect(global.receptiveRadius == nil)
  }

  static func upsampler(_ configure: (inout UpsamplingRecipe) -> Void) throws -> Upsampler {
    var recipe = UpsamplingRecipe()
    recipe.steps = 2
    recipe.noisingStep = 0
    recipe.latentScale = 1.8
    configure(&recipe)
    let flow = try CouplingFlowMatching(net: LocalUNetTests.randomNetwork(localConfig()))
    return try Upsampler(flow: flow, autoencoder: PixelUnshuffleAutoencoder(factor: 2), recipe: recipe)
  }

  /// 16 tiles of 64-pixel cores with 2 Euler steps' halo (2 × 75 + 1 pixels) against the whole
  /// image, at a size that is no multiple of anything: the same pixels (float32 rounding allowed
  /// for oneDNN's kernels, which may differ with a tile's size: 0 on an AVX2 CPU). With too small
  /// a halo the tiles differ, so the comparison can fail.
  @Test func haloTilesGiveTheWholeImage() throws {
    let image = try Tensor.rand([1, 3, 250, 230], generator: Generator(seed: 22))
    let whole = try Self.upsampler { $0.memoryBudget = nil }
    let tiled = try Self.upsampler { $0.tile = 64 }
    #expect(whole.localHalo(factor: 2) == 2 * 75 + 1)
    let tiling = try #require(tiled.haloTiling(height: 252, width: 232, factor: 2))
    #expect(tiling.core == 64 && tiling.alignment == 16)
    var steps: [Int] = []
    tiled.onStep = { done, total in steps.append(done); #expect(total == 2 * 16) }
    let a = try whole.upsampleAnySize(image: image), b = try tiled.upsampleAnySize(image: image)
    #expect(steps == Array(1...32))
    #expect(b.image.shape == [1, 3, 500, 460] && b.latent == nil)
    let difference = try a.image.maxAbsDifference(b.image)
    print("halo tiles against the whole image: max difference \(difference)")
    #expect(difference <= 2e-5)
    // Too little context: the cores' borders differ.
    let short = HaloTiling(halo: 8, alignment: 16, core: 64)
    let cut = try withNoGrad {
      try short.apply(image.narrow(dim: 2, start: 0, length: 248).narrow(dim: 3, start: 0, length: 228), factor: 2) {
        try whole.upsample(image: $0).image
      }
    }
    let reference = try whole.upsampleAnySize(image: image.narrow(dim: 2, start: 0, length: 248).narrow(dim: 3, start: 0, length: 228)).image
    #expect(try cut.maxAbsDifference(reference) > 1e-3)
  }

  /// The budget picks the tiles: small images run whole, large ones in tiles whose working set
  /// fits; models that are not local, adaptive steps and noise never tile.
  @Test func theMemoryBudgetChoosesTheTiles() throws {
    let up = try Self.upsampler { $0.memoryBudget = 2_500_000_000 }
    #expect(up.haloTiling(height: 512, width: 512, factor: 2) == nil)
    let tiling = try #require(up.haloTiling(height: 2448, width: 3264, factor: 2))
    let side = tiling.core + 2 * ((tiling.halo + 15) / 16 * 16)
    let working = side * side * Self.localConfig().inferenceBytesPerPosition
    #expect(working + Upsampler.processBytes + 2448 * 3264 * 12 * 7 <= 2_500_000_000 + 50_000_000)
    #expect(try Self.upsampler { $0.method = .dopri5 }.haloTiling(height: 2448, width: 3264, factor: 2) == nil)
    #expect(try Self.upsampler { $0.noisingStep = 400 }.haloTiling(height: 2448, width: 3264, factor: 2) == nil)
    #expect(try Self.upsampler { $0.memoryBudget = nil }.haloTiling(height: 2448, width: 3264, factor: 2) == nil)
  }

  /// The allocator's high-water mark of a 384² image: in 128-pixel cores less than half the whole image's.
  @Test(.enabled(if: Runtime.cachesLargeBlocks)) func tilesTakeLessMemory() throws {
    let image = try Tensor.rand([1, 3, 384, 384], generator: Generator(seed: 23))
    func highWater(_ up: Upsampler) throws -> Int {
      Runtime.releaseFreedMemory()
      let live = Runtime.allocatorStatistics.liveBytes
      let out = try up.upsampleAnySize(image: image)
      defer { withExtendedLifetime(out) {} }
      return Runtime.allocatorStatistics.highWaterBytes - live
    }
    let whole = try highWater(Self.upsampler { $0.memoryBudget = nil })
    let tiled = try highWater(Self.upsampler { $0.tile = 128 })
    print("high-water: whole \(whole >> 20) MiB, halo tiles \(tiled >> 20) MiB")
    #expect(tiled * 2 < whole)
  }
}
