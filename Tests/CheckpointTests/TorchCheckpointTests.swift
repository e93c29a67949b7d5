import Checkpoint
import Foundation
import TestSupport
import Testing
import Torch

@Suite struct TorchCheckpointTests {
  /// Every tensor of the Lightning-shaped checkpoint matches the manifest the reference wrote:
  /// dtype, shape, sum and first element, views and 0-d tensors included.
  @Test func lightningCheckpointMatchesItsManifest() throws {
    let checkpoint = try TorchCheckpoint(path: Shared.golden("lightning_like.ckpt"))
    let manifestData = try Data(contentsOf: URL(fileURLWithPath: Shared.golden("lightning_like.manifest.json")))
    let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
    let expected = try #require(manifest["tensors"] as? [String: [String: Any]])
    let found = Dictionary(uniqueKeysWithValues: checkpoint.tensors().map { ($0.path, $0.tensor) })
    #expect(Set(found.keys) == Set(expected.keys))
    for (path, info) in expected {
      let t = try #require(found[path], "\(path) missing")
      #expect(t.dtype.description == info["dtype"] as? String, "\(path)")
      #expect(t.shape == info["shape"] as? [Int], "\(path)")
      let sum = try t.to(.float64).sum().item()
      let wanted = info["sum"] as! Double
      #expect(abs(sum - wanted) <= 1e-6 * max(1, abs(wanted)), "\(path): sum \(sum) vs \(wanted)")
      let first = t.elementCount == 0 ? 0 : try t.flatten()[0].to(.float64).item()
      #expect(Float(first) == Float(info["first"] as! Double), "\(path)")
    }
    #expect(checkpoint.skippedClasses.contains("omegaconf.dictconfig.DictConfig"))
    #expect(checkpoint.root["global_step"].map { if case .int(1234) = $0 { true } else { false } } == true)
    #expect(checkpoint.root["epoch"].map { if case .int(3) = $0 { true } else { false } } == true)
    if case .placeholder(let name)? = checkpoint.root["hyper_parameters"] {
      #expect(name == "omegaconf.dictconfig.DictConfig")
    } else {
      Issue.record("hyper_parameters should be a skipped DictConfig")
    }
  }

  @Test func viewsShareOneStorageLikePyTorch() throws {
    let checkpoint = try TorchCheckpoint(path: Shared.golden("lightning_like.ckpt"))
    let views = Dictionary(uniqueKeysWithValues: checkpoint.tensors().filter { $0.path.hasPrefix("views/") }.map { ($0.path, $0.tensor) })
    let base = try #require(views["views/base"]), transposed = try #require(views["views/transposed"])
    #expect(try transposed.equal(base.transpose(0, 1)))
    #expect(transposed.strides == [1, 6])
    #expect(try #require(views["views/scalar"]).rank == 0)
    // Writing through the base is visible in the transposed view: one storage, as in PyTorch.
    try base.fill_(1)
    #expect(try transposed.sum().item() == 24)
  }

  @Test func onlineAndEmaWeightsSelectByPrefix() throws {
    let checkpoint = try TorchCheckpoint(path: Shared.golden("lightning_like.ckpt"))
    let stateDict = try checkpoint.stateDict()
    let online = try StateDictSelection.strip(stateDict, prefix: StateDictSelection.Weights.online.prefix, file: "x")
    let ema = try StateDictSelection.strip(stateDict, prefix: StateDictSelection.Weights.ema.prefix, file: "x")
    let reference = try SafeTensorsFile(path: Shared.golden("unet_a.weights.safetensors"))
    #expect(Set(online.map(\.0)) == Set(reference.keys))
    #expect(Set(ema.map(\.0)) == Set(reference.keys))
    for (key, t) in online { #expect(try t.contiguous().bytes() == [UInt8](reference.bytes(key)), "\(key)") }
    #expect {
      _ = try StateDictSelection.strip(stateDict, prefix: "first_stage_model.", file: "ckpt")
    } throws: { "\($0)".contains("prefixes present") }
  }

  @Test(arguments: ["vae_a_flat.ckpt", "vae_a_flat_legacy.ckpt"])
  func autoencoderCheckpointsEqualTheSafetensorsBitForBit(_ name: String) throws {
    let file = try TensorFile(path: Shared.golden(name))
    #expect(file.kind == (name.contains("legacy") ? .torchLegacy : .torchZip))
    let stateDict = try file.stateDict()
    let reference = try SafeTensorsFile(path: Shared.golden("vae_a.weights.safetensors"))
    #expect(Set(stateDict.map(\.0)) == Set(reference.keys))
    let directory = try temporaryDirectory("convert")
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("vae.safetensors")
    try SafeTensors.write(stateDict, to: out)
    let converted = try SafeTensorsFile(path: out.path)
    for key in reference.keys {
      #expect(converted.entries[key]?.dtype == reference.entries[key]?.dtype)
      #expect(try converted.bytes(key) == reference.bytes(key), "\(key)")
    }
  }

  @Test func tinyAutoencoderWeightsLoad() throws {
    let file = try TensorFile(path: Shared.weights("taef2_encoder.pth"))
    let stateDict = try file.stateDict()
    #expect(stateDict.contains { $0.0 == "1.conv.0.weight" })
    #expect(stateDict.contains { $0.0 == "11.pool.0.weight" })
    #expect(stateDict.allSatisfy { $0.1.dtype == .float16 })
    #expect(try stateDict.first { $0.0 == "0.weight" }?.1.shape == [64, 3, 3, 3])
  }
}
