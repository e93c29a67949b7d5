import Foundation
import Torch

/// Where an upsampling's result is local, large images run in halo tiles (HaloTiling): which
/// settings make it local, how large the halo is, and how the memory budget sizes the tiles.
extension Upsampler {
  /// `upsample(image:)` whole, or in halo tiles where `haloTiling` says so (the same pixels, only
  /// the top-left `keep` input pixels' output assembled).
  func upsampleWholeOrInHaloTiles(_ image: Tensor, factor: Int, keep: (Int, Int), generator: Generator?) throws -> Output {
    guard let tiling = haloTiling(height: image.size(2), width: image.size(3), factor: factor) else {
      return try upsample(image: image, factor: factor, generator: generator)
    }
    let outer = onStep
    defer { onStep = outer }
    let tiles = tiling.count(height: keep.0, width: keep.1)
    var (tile, evaluations) = (0, 0)
    onStep = { done, total in try outer?(tile * total + done, tiles * total) }
    let result = try tiling.apply(image, factor: factor, keep: keep, onTile: { done, _ in tile = done }) { crop in
      let piece = try upsample(image: crop, factor: factor, generator: generator)
      evaluations = piece.evaluations
      return piece.image
    }
    Runtime.releaseFreedMemory()
    return Output(image: result, latent: nil, evaluations: evaluations)
  }

  /// How far, in input pixels, the result at a pixel depends on the input ×`factor`, or nil where
  /// it depends on more: a first stage other than pixel blocks, a network without a
  /// `receptiveRadius`, adaptive steps (dopri5's step sizes follow the whole image's error), noise.
  public func localHalo(factor: Int) -> Int? {
    guard pixelSpace.autoencoder.codesPixelBlocks, recipe.mode == .psu, recipe.noisingStep <= 0, !recipe.startFromNoise,
          !recipe.method.isAdaptive, let radius = flow.net.config.receptiveRadius else { return nil }
    // A latent position is f output pixels, f / factor input pixels; the bilinear upsampling reads one more.
    let latentReach = radius * recipe.steps * recipe.method.evaluationsPerStep
    return (latentReach * pixelSpace.autoencoder.downsamplingFactor + factor - 1) / factor + 1
  }

  /// How many halo tiles an H × W input takes over `stages` stages of the model's scale (0: all whole).
  public func haloTileCount(height: Int, width: Int, stages: Int) -> Int {
    let factor = recipe.scale
    return (0..<max(1, stages)).map { stage in
      let scale = Int(pow(Double(factor), Double(stage)))
      return haloTiling(height: height * scale, width: width * scale, factor: factor)?.count(height: height * scale, width: width * scale) ?? 0
    }.reduce(0, +)
  }

  /// What the process takes besides an image's tensors, with a margin: libtorch, the model, the
  /// allocator's arenas (the default model's upsampling of a 256² image peaks at 0.33 GB, 0.1 of it
  /// the image's).
  public static let processBytes = 350_000_000

  /// Whether the result at a pixel depends on a bounded neighbourhood only (`localHalo`).
  public var isLocal: Bool { localHalo(factor: 1) != nil }

  /// The halo tiling for an H × W input ×`factor`, or nil when it runs whole: `tile` latent
  /// positions of core, or else the largest tiles whose working set
  /// (`EfficientUNetConfig.inferenceBytesPerPosition`) fits `memoryBudget` beside the process
  /// (`processBytes`) and the input (three copies) and output images in float32, when the whole
  /// image does not.
  public func haloTiling(height: Int, width: Int, factor: Int) -> HaloTiling? {
    guard let halo = localHalo(factor: factor) else { return nil }
    let f = pixelSpace.autoencoder.downsamplingFactor
    // Crops start where every level of the network (and oneDNN's 4-wide Winograd tiles) sees the
    // whole image's grid: multiples of 4 × the network's divisor in latent positions.
    let latentGrid = 4 * flow.net.config.requiredDivisor * f
    let alignment = lcm(inputMultiple(factor: factor), latentGrid % factor == 0 ? latentGrid / factor : latentGrid)
    if let tile = recipe.tile { return HaloTiling(halo: halo, alignment: alignment, core: tile * f / factor) }
    guard let budget = recipe.memoryBudget else { return nil }
    let pixels = height * width
    let perPixel = flow.net.config.inferenceBytesPerPosition * factor * factor / (f * f)
    // The image in float32: the picture, its copy in the model's range and a padded copy; the output.
    let available = budget - Self.processBytes - pixels * 12 * (3 + factor * factor)
    guard pixels * perPixel > available else { return nil }
    return HaloTiling(halo: halo, alignment: alignment, side: Int(Double(max(0, available) / perPixel).squareRoot()))
  }
}
