import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

@Suite struct EfficientUNetTests {
  static func goldenUNetConfig() throws -> EfficientUNetConfig {
    let weights = try SafeTensorsFile(path: Shared.golden("unet_a.weights.safetensors"))
    return try JSONDecoder().decode(EfficientUNetConfig.self, from: Data(try #require(weights.metadata["config"]).utf8))
  }

  static func goldenUNet() throws -> EfficientUNet {
    let weights = try SafeTensorsFile(path: Shared.golden("unet_a.weights.safetensors"))
    let net = try EfficientUNet(goldenUNetConfig())
    try net.load(stateDict: try weights.tensors(), strict: true)
    net.eval()
    return net
  }

  @Test func goldenForwardMatchesPyTorch() throws {
    let net = try Self.goldenUNet()
    let io = try SafeTensorsFile(path: Shared.golden("unet_a.io.safetensors"))
    let v = try withNoGrad { try net(io.tensor("x"), t: io.tensor("t"), context: io.tensor("context")) }
    let reference = try io.tensor("v")
    let error = try v.maxAbsDifference(reference)
    let scale = try reference.abs().max().item()
    print("unet_a parity: max |v - v_ref| = \(error) (reference max |v| = \(scale))")
    #expect(error <= 1e-4 * max(1, scale))
  }

  @Test func freshNetworkOutputsExactlyZero() throws {
    var config = EfficientUNetConfig()
    config.modelChannels = 32
    config.channelMult = [1, 2]
    config.numResBlocks = 1
    config.attentionResolutions = [2]
    config.dimHead = 16
    config.numHeads = 2
    let net = try EfficientUNet(config, generator: Generator(seed: 1))
    let g = try Generator(seed: 2)
    let v = try withNoGrad {
      try net(Tensor.randn([2, 4, 16, 16], generator: g), t: Tensor([0.3, 0.9] as [Float]), context: Tensor.randn([2, 4, 16, 16], generator: g))
    }
    #expect(try v.abs().max().item() == 0)
    #expect(v.shape == [2, 4, 16, 16])
  }

  @Test func paperTreeMatchesTheReferenceShapesWithoutAllocating() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Shared.golden("unet_base.shapes.json")))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let expected = try #require(json["tensors"] as? [String: [Int]])
    let configData = try JSONSerialization.data(withJSONObject: try #require(json["config"]))
    let config = try JSONDecoder().decode(EfficientUNetConfig.self, from: configData)
    #expect(config == .base)
    #expect(json["num_params"] as? Int == 305_806_340)
    try resetPeakResidentMemory()
    let rss = try residentMemory()
    let net = try EfficientUNet(config, device: .meta)
    let ours = Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.0, $0.1.shape) })
    #expect(Set(ours.keys) == Set(expected.keys))
    for (key, shape) in expected { #expect(ours[key] == shape, "\(key)") }
    #expect(net.parameterCount == 305_806_340)
    // The peak, not the RSS afterwards: weights allocated and freed again would not show in the latter.
    #expect(try peakResidentMemory() - rss < 64 << 20)  // 1.2 GB of weights were never allocated
  }

  @Test func timeEmbeddingMatchesTheSchedulesFixture() throws {
    let file = try SafeTensorsFile(path: Shared.golden("schedules.safetensors"))
    let t = try file.tensor("temb_t")
    for (dim, key) in [(128, "temb_128"), (33, "temb_33")] {
      let ours = try timestepEmbedding(t, dim: dim)
      #expect(try ours.maxAbsDifference(file.tensor(key)) < 1e-6, "\(key)")
    }
    let half = try timestepEmbedding(Tensor([0.5] as [Float]), dim: 128).toArray(Float.self)
    #expect(abs(half[0] - 0.877583) < 1e-6 && abs(half[64] - 0.479426) < 1e-6 && abs(half[96] - 0.005) < 1e-6)
  }
}
