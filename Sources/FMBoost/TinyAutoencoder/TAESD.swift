import Checkpoint
import Foundation
import NN
import Torch

/// The TAESD family's building block (`conv`, `skip`, optional `pool`):
/// x ← x + pool(x) when pooled; out = ReLU(conv(x) + skip(x)).
final class TAEBlock: Module, Layer {
  let conv: Sequential
  let skip: Conv2d?
  let pool: Sequential?

  init(_ p: ModuleScope, _ nIn: Int, _ nOut: Int, midblockGN: Bool) throws {
    let c = p["conv"]
    conv = Sequential(c, [
      try Conv2d(c[0], nIn, nOut, kernelSize: 3, padding: 1), ReLU(overwritesInput: true),
      try Conv2d(c[2], nOut, nOut, kernelSize: 3, padding: 1), ReLU(overwritesInput: true),
      try Conv2d(c[4], nOut, nOut, kernelSize: 3, padding: 1),
    ])
    skip = nIn == nOut ? nil : try Conv2d(p["skip"], nIn, nOut, kernelSize: 1, bias: false)
    if midblockGN {
      let g = p["pool"]
      pool = Sequential(g, [
        try Conv2d(g[0], nIn, 4 * nIn, kernelSize: 1, bias: false),
        try GroupNorm(g[1], groups: 4, channels: 4 * nIn, eps: 1e-5), ReLU(overwritesInput: true),
        try Conv2d(g[3], 4 * nIn, nIn, kernelSize: 1, bias: false),
      ])
    } else {
      pool = nil
    }
    super.init(p)
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor {
    let input = try pool.map { try $0(x).addOverwriting(x) } ?? x
    return try conv(input).addOverwriting(skip?(input) ?? input).reluOverwriting()
  }
}

/// tanh(x / 3) · 3.
final class SoftClamp: Module, Layer {
  override init() { super.init() }
  func callAsFunction(_ x: Tensor) throws -> Tensor { try (x / 3).tanh() * 3 }
}

/// Nearest-neighbour ×2.
final class NearestUpsample: Module, Layer {
  override init() { super.init() }
  func callAsFunction(_ x: Tensor) throws -> Tensor { try x.interpolate(scaleFactor: 2, mode: .nearest) }
}

/// The shape of a tiny autoencoder: latent channels (TAESD/TAESDXL 4, TAESD3/TAEF1 16, TAEF2 32)
/// and whether the lowest-resolution blocks have the GroupNorm `pool` branch (TAEF2).
public struct TAESDVariant: Equatable, Sendable {
  public var latentChannels: Int
  public var midblockGN: Bool

  public init(latentChannels: Int, midblockGN: Bool) {
    self.latentChannels = latentChannels
    self.midblockGN = midblockGN
  }

  public static let taesd = TAESDVariant(latentChannels: 4, midblockGN: false)
  public static let taef1 = TAESDVariant(latentChannels: 16, midblockGN: false)
  public static let taef2 = TAESDVariant(latentChannels: 32, midblockGN: true)
}

/// TAESD-family encoder: images in [0, 1] → latents at 1/8 resolution. Keys `<index>.<path>`.
public final class TAESDEncoder: Module, Layer {
  public let variant: TAESDVariant
  let layers: IndexedLayers

  public init(_ variant: TAESDVariant, _ p: ModuleScope) throws {
    self.variant = variant
    let gn = variant.midblockGN
    var layers = IndexedLayers(p)
    try layers.add { try Conv2d($0, 3, 64, kernelSize: 3, padding: 1) }
    for level in 0..<4 {
      if level > 0 { try layers.add { try Conv2d($0, 64, 64, kernelSize: 3, stride: 2, padding: 1, bias: false) } }
      for _ in 0..<(level == 0 ? 1 : 3) { try layers.add { try TAEBlock($0, 64, 64, midblockGN: gn && level == 3) } }
    }
    try layers.add { try Conv2d($0, 64, variant.latentChannels, kernelSize: 3, padding: 1) }
    self.layers = layers
    super.init(p)
  }

  public func callAsFunction(_ image: Tensor) throws -> Tensor { try layers(image) }

  /// Reads the variant from the weights: latent channels from `14.weight`, TAEF2's pool branch from `11.pool.0.weight`.
  public static func variant(of stateDict: [String: Tensor], file: String) throws -> TAESDVariant {
    guard let last = stateDict["14.weight"], last.rank == 4 else {
      throw CheckpointError(file: file, "not a TAESD-family encoder (no 14.weight)")
    }
    return TAESDVariant(latentChannels: last.size(0), midblockGN: stateDict["11.pool.0.weight"] != nil)
  }
}

/// TAESD-family decoder: latents → images in [0, 1] (not clamped).
public final class TAESDDecoder: Module, Layer {
  public let variant: TAESDVariant
  let layers: IndexedLayers

  public init(_ variant: TAESDVariant, _ p: ModuleScope) throws {
    self.variant = variant
    var layers = IndexedLayers(p)
    layers.add(SoftClamp())
    try layers.add { try Conv2d($0, variant.latentChannels, 64, kernelSize: 3, padding: 1) }
    layers.add(ReLU(overwritesInput: true))
    for level in 0..<4 {
      for _ in 0..<(level == 3 ? 1 : 3) { try layers.add { try TAEBlock($0, 64, 64, midblockGN: variant.midblockGN && level == 0) } }
      if level < 3 {
        layers.add(NearestUpsample())
        try layers.add { try Conv2d($0, 64, 64, kernelSize: 3, padding: 1, bias: false) }
      }
    }
    try layers.add { try Conv2d($0, 64, 3, kernelSize: 3, padding: 1) }
    self.layers = layers
    super.init(p)
  }

  public func callAsFunction(_ latent: Tensor) throws -> Tensor { try layers(latent) }

  /// Reads the variant from the weights: latent channels from `1.weight`, TAEF2's pool branch from `3.pool.0.weight`.
  public static func variant(of stateDict: [String: Tensor], file: String) throws -> TAESDVariant {
    guard let first = stateDict["1.weight"], first.rank == 4 else {
      throw CheckpointError(file: file, "not a TAESD-family decoder (no 1.weight)")
    }
    return TAESDVariant(latentChannels: first.size(1), midblockGN: stateDict["3.pool.0.weight"] != nil)
  }
}
