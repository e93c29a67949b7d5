import Imaging
import Torch

/// No first stage: the flow runs in pixel space (the original's `first_stage_cfg: null`, scale 1).
public final class IdentityAutoencoder: LatentAutoencoder {
  public var codesPixelBlocks: Bool { true }
  public init() {}
  public var kind: String { "identity" }
  public var latentChannels: Int { 3 }
  public var downsamplingFactor: Int { 1 }
  public var pixelRange: PixelRange { .symmetric }
  public func encode(_ image: Tensor) throws -> Tensor { image }
  public func decode(_ latent: Tensor) throws -> Tensor { latent }
}
