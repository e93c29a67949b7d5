import Checkpoint
import FMBoost
import Foundation
import NN
import StableDiffusion
import Testing
import TestSupport
import Torch

/// The SD UNet's blocks against the activations of `golden-sd/sd_unet_tiny` (diffusers 0.42 on
/// SD1.5's topology, float32 on the file's float16-exact weights), block by block.
@Suite struct SDUNetTests {
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

  @Test func theTinyUNetMatchesDiffusersEndToEnd() throws {
    let io = try SafeTensorsFile(path: Self.io)
    var c = SDUNetConfig()
    c.modelChannels = 32
    c.channelMult = [1, 2, 3, 3]
    c.contextDim = 32
    let unet = try WeightFile.build(Self.tensors(under: ""), file: Self.weights) { try SDUNet(c, $0) }
    // The fixture's activations by LDM module; a block's output is its last layer's (`input_blocks.1.1`).
    let fixtureName = ["emb": "act.emb", "input_blocks.0": "act.input_blocks.0", "input_blocks.1": "act.input_blocks.1.1",
                       "input_blocks.3": "act.input_blocks.3.0", "input_blocks.11": "act.input_blocks.11.0",
                       "middle_block": "act.middle_block", "output_blocks.2": "act.output_blocks.2", "output_blocks.11": "act.output_blocks.11"]
    var compared: [String] = []
    let eps = try withNoGrad {
      try unet(io.tensor("x"), t: io.tensor("t"), context: io.tensor("context")) { module, activation in
        guard let name = fixtureName[module] else { return }
        let reference = try io.tensor(name)
        #expect(activation.shape == reference.shape, "\(module)")
        let error = try activation.maxAbsDifference(reference)
        #expect(try Self.close(activation, reference), "\(module): max abs error \(error)")
        compared.append(module)
      }
    }
    #expect(Set(compared) == Set(fixtureName.keys))
    let reference = try io.tensor("eps")
    print(String(format: "SD UNet (tiny): max abs error %.2e (reference scale %.2f)", try eps.maxAbsDifference(reference), try reference.abs().max().item()))
    #expect(try Self.close(eps, reference))
  }

  @Test func theFullSizeTreeHasSD15sKeysAndShapes() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Shared.root + "/golden-sd/sd15_keys.json"))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let rows = try #require(json["unet"] as? [[Any]])
    var expected: [String: [Int]] = [:]
    // Each row: the LDM key (below model.diffusion_model.), the diffusers key, the shape.
    for row in rows { expected[try #require(row[0] as? String)] = try #require(row[2] as? [Int]) }
    let unet = try SDUNet(.sd15, ParameterSource.fresh(device: .meta).root)
    let ours = Dictionary(uniqueKeysWithValues: unet.stateDict().map { ($0.0, $0.1.shape) })
    #expect(expected.count == 686)
    #expect(ours == expected)
    #expect(unet.parameterCount == 859_520_964)
  }

  @Test func diffusersKeysMapToLDMsForAllOfSD15() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Shared.root + "/golden-sd/sd15_keys.json"))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let rows = try #require(json["unet"] as? [[Any]])
    var diffusers: [String: String] = [:]
    for row in rows {
      let ldm = try #require(row[0] as? String), name = try #require(row[1] as? String)
      diffusers[String(name.dropFirst("model.diffusion_model.".count))] = ldm
    }
    #expect(DiffusersUNetKeys.isDiffusersLayout(diffusers.keys))
    let mapped = try DiffusersUNetKeys.toLDM(diffusers, layersPerBlock: 2)
    #expect(mapped.count == 686)
    for (ldm, expected) in mapped { #expect(ldm == expected) }
    #expect(throws: TorchError.self) { try DiffusersUNetKeys.toLDM(["down_blocks.0.strange.0.weight": 1], layersPerBlock: 2) }
  }
}
