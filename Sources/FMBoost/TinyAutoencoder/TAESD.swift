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

  init(_ nIn: Int, _ nOut: Int, midblockGN: Bool, device: Device, generator: Generator?) throws {
    conv = Sequential([
      try Conv2d(nIn, nOut, kernelSize: 3, padding: 1, device: device, generator: generator), ReLU(),
      try Conv2d(nOut, nOut, kernelSize: 3, padding: 1, device: device, generator: generator), ReLU(),
      try Conv2d(nOut, nOut, kernelSize: 3, padding: 1, device: device, generator: generator),
    ])
    skip = nIn == nOut ? nil : try Conv2d(nIn, nOut, kernelSize: 1, bias: false, device: device, generator: generator)
    pool = midblockGN
      ? Sequential([
        try Conv2d(nIn, 4 * nIn, kernelSize: 1, bias: false, device: device, generator: generator),
        try GroupNorm(groups: 4, channels: 4 * nIn, eps: 1e-5, device: device), ReLU(),
        try Conv2d(4 * nIn, nIn, kernelSize: 1, bias: false, device: device, generator: generator),
      ]) : nil
    super.init()
    register("conv", conv)
    if let skip { register("skip", skip) }
    if let pool { register("pool", pool) }
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor {
    let input = try pool.map { try x + $0(x) } ?? x
    return try (conv(input) + (skip?(input) ?? input)).relu()
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
  let layers: Sequential

  public init(_ variant: TAESDVariant, device: Device = .cpu, generator: Generator? = nil) throws {
    self.variant = variant
    func block(_ gn: Bool = false) throws -> TAEBlock { try TAEBlock(64, 64, midblockGN: gn, device: device, generator: generator) }
    func down() throws -> Conv2d { try Conv2d(64, 64, kernelSize: 3, stride: 2, padding: 1, bias: false, device: device, generator: generator) }
    let gn = variant.midblockGN
    layers = Sequential([
      try Conv2d(3, 64, kernelSize: 3, padding: 1, device: device, generator: generator), try block(),
      try down(), try block(), try block(), try block(),
      try down(), try block(), try block(), try block(),
      try down(), try block(gn), try block(gn), try block(gn),
      try Conv2d(64, variant.latentChannels, kernelSize: 3, padding: 1, device: device, generator: generator),
    ])
    super.init()
    for (i, layer) in layers.layers.enumerated() { register(String(i), layer) }
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
  let layers: Sequential

  public init(_ variant: TAESDVariant, device: Device = .cpu, generator: Generator? = nil) throws {
    self.variant = variant
    func block(_ gn: Bool = false) throws -> TAEBlock { try TAEBlock(64, 64, midblockGN: gn, device: device, generator: generator) }
    func conv() throws -> Conv2d { try Conv2d(64, 64, kernelSize: 3, padding: 1, bias: false, device: device, generator: generator) }
    let gn = variant.midblockGN
    layers = Sequential([
      SoftClamp(), try Conv2d(variant.latentChannels, 64, kernelSize: 3, padding: 1, device: device, generator: generator), ReLU(),
      try block(gn), try block(gn), try block(gn), NearestUpsample(), try conv(),
      try block(), try block(), try block(), NearestUpsample(), try conv(),
      try block(), try block(), try block(), NearestUpsample(), try conv(),
      try block(), try Conv2d(64, 3, kernelSize: 3, padding: 1, device: device, generator: generator),
    ])
    super.init()
    for (i, layer) in layers.layers.enumerated() { register(String(i), layer) }
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
