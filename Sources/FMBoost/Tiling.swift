import Torch

/// Runs a spatial network over overlapping tiles and blends the outputs, so images larger than
/// memory allows (or a smaller machine) still work. Inside each overlap the two tiles are mixed
/// with linear ramps that give no weight to either tile's outermost quarter of the overlap, so a
/// network whose receptive field fits in that quarter tiles exactly, and others without seams.
public struct Tiling: Sendable, Equatable {
  /// The smallest tile the command line accepts, in latent positions.
  public static let minimumTile = 4
  /// Tile side in input positions (latent positions for a decoder).
  public var tile: Int
  /// Overlap between neighbouring tiles, in input positions.
  public var overlap: Int

  public init(tile: Int, overlap: Int) throws {
    guard tile > 0, overlap >= 0, overlap < tile else {
      throw TorchError.invalidArgument("tiling needs tile > 0 and 0 ≤ overlap < tile (got tile \(tile), overlap \(overlap))")
    }
    self.tile = tile
    self.overlap = overlap
  }

  /// Tile starts along an axis of `length`: every (tile − overlap), the last one flush with the end.
  func starts(_ length: Int) -> [Int] {
    guard length > tile else { return [0] }
    var result = Array(stride(from: 0, to: length - tile, by: tile - overlap))
    result.append(length - tile)
    return result
  }

  /// A weight ramp of `length` output pixels for the sides that have a neighbour: 0 over the first
  /// quarter of the overlap (where the tile's own border effects live), rising linearly over its
  /// middle half, 1 beyond. The neighbour is at full weight where this tile is at 0.
  func ramp(length: Int, overlap rise: Int, before: Bool, after: Bool) -> [Float] {
    let margin = Float(rise) / 4, width = Swift.max(Float(rise) / 2, 1)
    func rising(_ distance: Int) -> Float { Swift.min(1, Swift.max(0, (Float(distance) + 0.5 - margin) / width)) }
    return (0..<length).map { i in
      var w: Float = 1
      if rise > 0 && before { w = Swift.min(w, rising(i)) }
      if rise > 0 && after { w = Swift.min(w, rising(length - 1 - i)) }
      return w
    }
  }

  /// Applies `body` — (B, C, h, w) → (B, C', h·scale, w·scale) — tile by tile and blends the results.
  /// Runs without autograd.
  public func apply(_ input: Tensor, scale: Int, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
    let (height, width) = (input.size(2), input.size(3))
    if height <= tile && width <= tile { return try body(input) }
    return try blend(height: height, width: width, scale: scale) { y, x, th, tw in
      try body(input.narrow(dim: 2, start: y, length: th).narrow(dim: 3, start: x, length: tw))
    }
  }

  /// Applies an encoder — (B, 3, H, W) → (B, C, H/factor, W/factor) — over pixel tiles of
  /// `tile`·`factor` pixels (overlaps likewise in latent units), blending in latent space.
  public func applyDownscaling(_ image: Tensor, factor: Int, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
    guard image.size(2) % factor == 0, image.size(3) % factor == 0 else {
      throw TorchError.invalidArgument("image size \(image.size(2))×\(image.size(3)) is not a multiple of \(factor)")
    }
    let (height, width) = (image.size(2) / factor, image.size(3) / factor)
    if height <= tile && width <= tile { return try body(image) }
    return try blend(height: height, width: width, scale: 1) { y, x, th, tw in
      try body(image.narrow(dim: 2, start: y * factor, length: th * factor).narrow(dim: 3, start: x * factor, length: tw * factor))
    }
  }

  /// Accumulates `piece(y, x, th, tw)` — the output for input rows y..<y+th and columns x..<x+tw —
  /// over every tile, weighted by the ramps, and normalises.
  private func blend(height: Int, width: Int, scale: Int, _ piece: (Int, Int, Int, Int) throws -> Tensor) throws -> Tensor {
    try withNoGrad {
      var output: Tensor?
      var weights: Tensor?
      let rise = overlap * scale
      let (th, tw) = (Swift.min(tile, height), Swift.min(tile, width))
      for y in starts(height) {
        for x in starts(width) {
          let result = try piece(y, x, th, tw)
          if output == nil {
            output = try Tensor.zeros([result.size(0), result.size(1), height * scale, width * scale], dtype: result.dtype, device: result.device)
            weights = try Tensor.zeros([1, 1, height * scale, width * scale], dtype: result.dtype, device: result.device)
          }
          let wy = try Tensor(ramp(length: th * scale, overlap: rise, before: y > 0, after: y + th < height)).reshape([1, 1, th * scale, 1])
          let wx = try Tensor(ramp(length: tw * scale, overlap: rise, before: x > 0, after: x + tw < width)).reshape([1, 1, 1, tw * scale])
          let w = try (wy * wx).to(result.dtype).placed(on: result.device)
          try output!.narrow(dim: 2, start: y * scale, length: th * scale).narrow(dim: 3, start: x * scale, length: tw * scale)
            .add_(result * w)
          try weights!.narrow(dim: 2, start: y * scale, length: th * scale).narrow(dim: 3, start: x * scale, length: tw * scale)
            .add_(w.expand([1, 1, th * scale, tw * scale]))
        }
      }
      return try output! / weights!
    }
  }
}
