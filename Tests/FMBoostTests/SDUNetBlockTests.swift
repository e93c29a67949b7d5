import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// The SD UNet's blocks against the activations of `golden-sd/sd_unet_tiny` (diffusers 0.42 on
/// SD1.5's topology, float32 on the file's float16-exact weights), block by block.
@Suite struct SDUNetBlockTests {
  static let weights = Shared.root + "/golden-sd/sd_unet_tiny.ldm.safetensors"
  static let io = Shared.root + "/golden-sd/sd_unet_tiny.io.safetensors"

  /// The file's tensors under `model.diffusion_model.<prefix>`, the prefix removed.
  static func tensors(under prefix: String) throws -> [String: Tensor] {
    try WeightFile.stateDict(weights, prefix: "model.diffusion_model." + prefix)
  }

  static func close(_ ours: Tensor, _ reference: Tensor) throws -> Bool {
    try ours.maxAbsDifference(reference) <= 1e-5 * max(1, try reference.abs().max().item())
  }

  @Test func theResidualBlockIsEfficientUNetsWithTheEmbeddingAdded() throws {
    let io = try SafeTensorsFile(path: Self.io)
    let block = try WeightFile.build(Self.tensors(under: "input_blocks.1.0."), file: Self.weights) {
      try ResBlock($0, channels: 32, embeddingChannels: 128, dropout: 0, outChannels: 32, useScaleShiftNorm: false)
    }
    let out = try withNoGrad { try block(io.tensor("act.input_blocks.0"), io.tensor("act.emb")) }
    #expect(try Self.close(out, io.tensor("act.input_blocks.1.0")))
  }

  @Test func theSpatialTransformerMatchesDiffusers() throws {
    let io = try SafeTensorsFile(path: Self.io)
    let transformer = try WeightFile.build(Self.tensors(under: "input_blocks.1.1."), file: Self.weights) {
      try SpatialTransformer($0, channels: 32, heads: 8, headDim: 4, depth: 1, contextDim: 32)
    }
    let out = try withNoGrad { try transformer(io.tensor("act.input_blocks.1.0"), context: io.tensor("context")) }
    let reference = try io.tensor("act.input_blocks.1.1")
    print(String(format: "SpatialTransformer: max abs error %.2e (reference scale %.2f)", try out.maxAbsDifference(reference), try reference.abs().max().item()))
    #expect(try Self.close(out, reference))
  }
}
