import Torch

/// Tiles that reproduce the whole-image result: where the result at a pixel depends only on the
/// input within `halo` pixels (a pixel-block first stage, a network with a `receptiveRadius`,
/// fixed-step integration, no noise), each tile is upsampled with that much more input on every
/// side and only its core is kept. Crops start on a grid of `alignment` input pixels, so every
/// level of the network sees the same positions as in the whole image. Peak memory then follows
/// the tile, not the image; the cost is the halo's recomputation.
public struct HaloTiling: Sendable, Equatable {
  /// Input pixels of context on each side of a tile's core.
  public let halo: Int
  /// Input pixels: crop origins and core sizes are multiples of this.
  public let alignment: Int
  /// Input pixels per side of a tile's core.
  public let core: Int

  /// Cores of `core` input pixels (rounded down to the alignment, at least one step of it).
  public init(halo: Int, alignment: Int, core: Int) {
    self.halo = halo
    self.alignment = alignment
    self.core = max(alignment, core / alignment * alignment)
  }

  /// The tiling whose tiles, core and halos, are at most `side` input pixels (or the smallest core).
  public init(halo: Int, alignment: Int, side: Int) {
    let reach = (halo + alignment - 1) / alignment * alignment
    self.init(halo: halo, alignment: alignment, core: side - 2 * reach)
  }

  /// The number of tiles of an H × W input.
  public func count(height: Int, width: Int) -> Int { origins(height: height, width: width).count }

  /// Each tile's core origin (y, x) over the top-left H × W input pixels, row by row.
  func origins(height: Int, width: Int) -> [(y: Int, x: Int)] {
    let columns = Array(stride(from: 0, to: width, by: balanced(width)))
    return stride(from: 0, to: height, by: balanced(height)).flatMap { y in columns.map { (y, $0) } }
  }

  /// Upsamples `image` (B, C, H, W) by `factor` with `body` applied to each tile's crop (whose
  /// sides are multiples of `alignment` or reach the image's end), and assembles the cores: the
  /// output's top-left `keep` (H, W by default) input pixels ×`factor`, so that the padding a
  /// caller added is never copied. `onTile(done, total)` after each tile.
  public func apply(_ image: Tensor, factor: Int, keep: (height: Int, width: Int)? = nil, onTile: ((Int, Int) throws -> Void)? = nil,
                    _ body: (Tensor) throws -> Tensor) throws -> Tensor {
    let (height, width) = (image.size(2), image.size(3))
    let kept = keep ?? (height, width)
    let (coreRows, coreColumns) = (balanced(kept.height), balanced(kept.width))
    var output: Tensor?
    let tiles = origins(height: kept.height, width: kept.width)
    for (index, (y, x)) in tiles.enumerated() {
      let (top, bottom) = (Swift.max(0, aligned(y - halo, up: false)), Swift.min(height, aligned(Swift.min(height, y + coreRows) + halo, up: true)))
      let (left, right) = (Swift.max(0, aligned(x - halo, up: false)), Swift.min(width, aligned(Swift.min(width, x + coreColumns) + halo, up: true)))
      let crop = try image.narrow(dim: 2, start: top, length: bottom - top).narrow(dim: 3, start: left, length: right - left)
      let result = try body(crop)
      if output == nil {
        output = try Tensor.empty([result.size(0), result.size(1), kept.height * factor, kept.width * factor], dtype: result.dtype, device: result.device)
      }
      let (rowsKept, columnsKept) = (Swift.min(coreRows, kept.height - y) * factor, Swift.min(coreColumns, kept.width - x) * factor)
      let kept = try result.narrow(dim: 2, start: (y - top) * factor, length: rowsKept).narrow(dim: 3, start: (x - left) * factor, length: columnsKept)
      try output!.narrow(dim: 2, start: y * factor, length: rowsKept).narrow(dim: 3, start: x * factor, length: columnsKept).copy_(kept)
      try onTile?(index + 1, tiles.count)
    }
    return output!
  }

  /// The core along an axis of `length`: as many tiles as `core` needs, made equal (to the
  /// alignment), so that no thin last tile pays a whole halo for little.
  func balanced(_ length: Int) -> Int {
    let count = (length + core - 1) / core
    return aligned((length + count - 1) / count, up: true)
  }

  private func aligned(_ value: Int, up: Bool) -> Int {
    let floor = Int((Double(value) / Double(alignment)).rounded(.down)) * alignment
    return up && floor < value ? floor + alignment : floor
  }
}
