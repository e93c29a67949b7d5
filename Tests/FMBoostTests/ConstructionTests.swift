import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// Networks are built once, from a parameter source: fresh values, or the tensors of a weight file
/// taken in place with one strict report.
@Suite struct ConstructionTests {
  static var small: EfficientUNetConfig {
    var c = EfficientUNetConfig()
    c.modelChannels = 32
    c.numResBlocks = 1
    c.channelMult = [1, 2]
    c.attentionResolutions = [2]
    c.dimHead = 16
    c.numHeads = 2
    return c
  }

  /// A state_dict of `config`'s shapes with every value distinct from a fresh network's (zeroed
  /// output layers included), written with its config as `fmboost export` writes it.
  static func writeWeights(_ config: EfficientUNetConfig, to url: URL, edit: (inout [String: Tensor]) -> Void = { _ in }) throws -> [String: Tensor] {
    var weights: [String: Tensor] = [:]
    for (i, (key, slot)) in try EfficientUNet(config, device: .meta).stateDict().enumerated() {
      weights[key] = try Tensor.randn(slot.shape, generator: Generator(seed: UInt64(i))) * 0.02
    }
    edit(&weights)
    let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
    try SafeTensors.write(weights, metadata: ["config": json], to: url)
    return weights
  }

  @Test func aNetworkBuiltFromWeightsHoldsExactlyTheFilesTensors() throws {
    let url = try temporaryDirectory("construction").appendingPathComponent("net.safetensors")
    let weights = try Self.writeWeights(Self.small, to: url)
    let net = try FlowModelLoader.load(url.path).flow.net
    let ours = net.stateDict()
    #expect(Set(ours.map(\.0)) == Set(weights.keys))
    for (key, value) in ours { #expect(try value.maxAbsDifference(weights[key]!) == 0, "\(key)") }
    // The zero-initialised layers of a fresh network keep the file's values.
    #expect(try weights["out.2.weight"]!.abs().max().item() > 0)
    #expect(try weights["input_blocks.1.0.out_layers.3.weight"]!.abs().max().item() > 0)
    // The residual block's out_layers are two modules under their keys, no unused sequence.
    let modules = Set(net.namedModules().map(\.0))
    #expect(modules.contains("input_blocks.1.0.out_layers.0") && modules.contains("input_blocks.1.0.out_layers.3"))
    #expect(!modules.contains("input_blocks.1.0.out_layers"))
  }

  /// A built network is freed with its last reference: the scopes it was built in hold their
  /// children, never the other way round (a cycle once kept every network alive for good).
  @Test func aDroppedNetworkFreesItsTensors() throws {
    let before = Tensor.liveCount
    var weights: [String: Tensor] = [:]
    do {
      let fresh = try EfficientUNet(Self.small, ParameterSource.fresh(generator: Generator(seed: 1)).root)
      weights = try Dictionary(fresh.stateDict().map { ($0.0, try $0.1.clone()) }, uniquingKeysWith: { a, _ in a })
      withExtendedLifetime(fresh) { #expect(Tensor.liveCount >= before + 2 * weights.count) }
    }
    #expect(Tensor.liveCount == before + weights.count, "live tensors \(Tensor.liveCount) after dropping a fresh network: \(before) before, \(weights.count) copied")
    do {
      let loaded = try WeightFile.build(weights, file: "memory") { try EfficientUNet(Self.small, $0) }
      weights = [:]
      withExtendedLifetime(loaded) { #expect(Tensor.liveCount > before) }
    }
    #expect(Tensor.liveCount == before, "live tensors \(Tensor.liveCount) after dropping the loaded network, \(before) before")
  }

  @Test func aFreshSourceDrawsWhatTheSameSeedDrewBefore() throws {
    // Two builds from one seed are identical, and the zero-initialised output conv is zero.
    let a = try EfficientUNet(Self.small, generator: Generator(seed: 7)).stateDict()
    let b = try EfficientUNet(Self.small, generator: Generator(seed: 7)).stateDict()
    for ((key, x), (_, y)) in zip(a, b) { #expect(try x.maxAbsDifference(y) == 0, "\(key)") }
    let out = try #require(a.first { $0.0 == "out.2.weight" }?.1)
    #expect(try out.abs().max().item() == 0)
    let first = try #require(a.first { $0.0 == "input_blocks.0.0.weight" }?.1)
    #expect(try first.abs().max().item() > 0)
  }

  @Test func everyProblemOfAWeightFileIsReportedAtOnceNamingTheFile() throws {
    let url = try temporaryDirectory("construction").appendingPathComponent("broken.safetensors")
    _ = try Self.writeWeights(Self.small, to: url) { w in
      w["out.2.bias"] = nil
      w["time_embed.0.weight"] = try! Tensor.zeros([3, 3])
      w["extra.weight"] = try! Tensor.zeros([1])
    }
    do {
      _ = try FlowModelLoader.load(url.path)
      Issue.record("a broken file loaded")
    } catch {
      let message = "\(error)"
      #expect(message.contains(url.path))
      #expect(message.contains("missing keys (1): out.2.bias"))
      #expect(message.contains("unexpected keys (1): extra.weight"))
      #expect(message.contains("shape mismatch for time_embed.0.weight: the model has [128, 32], the file has [3, 3]"))
    }
  }

  /// A module built in a scope below one with no module of its own would be left out of the tree
  /// (its weights loaded, yet missing from the state_dict): the build says so.
  @Test func parametersOutsideTheModuleTreeAreAProgrammingErrorNamed() throws {
    final class Holey: Module {
      let conv: Conv2d
      init(holey p: ModuleScope) throws {
        conv = try Conv2d(p["a"]["b"], 1, 1, kernelSize: 1)
        super.init(p)
      }
    }
    let weights = ["a.b.weight": try Tensor.ones([1, 1, 1, 1]), "a.b.bias": try Tensor.zeros([1])]
    #expect { try WeightFile.build(weights, file: "f") { try Holey(holey: $0) } } throws: { "\($0)".contains("outside the network's module tree: a.b.weight") }
  }

  /// The paper's 305 M-parameter UNet (1.22 GB of float32) loads from a safetensors file without a
  /// second copy: no random initial values, and the file read one tensor at a time.
  @Test func loadingThePaperUNetTakesAtMostOneAndAFifthOfItsWeights() throws {
    let config = EfficientUNetConfig.base
    let shapes = try EfficientUNet(config, device: .meta).stateDict()
    let weightBytes = shapes.reduce(0) { $0 + $1.1.elementCount * 4 }
    #expect(weightBytes > 1_200_000_000)
    let url = try temporaryDirectory("paper-unet").appendingPathComponent("unet.safetensors")
    defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    try writeConstantWeights(shapes, config: config, to: url)

    // Memory earlier tests freed goes back to the system first, or the load could reuse it unseen.
    releaseFreedMemory()
    try resetPeakResidentMemory()
    let before = try residentMemory()
    let net = try FlowModelLoader.load(url.path).flow.net
    let growth = try peakResidentMemory() - before
    print(String(format: "paper UNet load: peak RSS +%d MiB for %d MiB of weights (%.2f×)", growth >> 20, weightBytes >> 20, Double(growth) / Double(weightBytes)))
    #expect(net.parameterCount == 305_806_340)
    #expect(try net.stateDict().first { $0.0 == "out.2.bias" }!.1.max().item() == Double(Float(0.25)))
    #expect(Double(growth) <= 1.2 * Double(weightBytes),
            "peak RSS grew by \(growth >> 20) MiB loading \(weightBytes >> 20) MiB of weights (\(String(format: "%.2f", Double(growth) / Double(weightBytes)))×)")
  }

  /// Writes a safetensors file of the given shapes, tensor i filled with (i mod 8)/4, streaming,
  /// so this process never holds the weights before the load that is measured.
  private func writeConstantWeights(_ shapes: [(String, Tensor)], config: EfficientUNetConfig, to url: URL) throws {
    var header: [String: Any] = ["__metadata__": ["config": String(decoding: try JSONEncoder().encode(config), as: UTF8.self)]]
    var offset = 0
    for (key, t) in shapes {
      let n = t.elementCount * 4
      header[key] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + n]]
      offset += n
    }
    let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    FileManager.default.createFile(atPath: url.path, contents: nil)
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    var length = UInt64(json.count).littleEndian
    handle.write(Data(bytes: &length, count: 8))
    handle.write(json)
    let chunk = 1 << 22
    for (i, (key, t)) in shapes.enumerated() {
      var value = Float(i % 8) / 4
      if key == "out.2.bias" { value = 0.25 }
      let block = [Float](repeating: value, count: min(chunk, t.elementCount)).withUnsafeBytes { Data($0) }
      var left = t.elementCount
      while left > 0 {
        let count = min(left, chunk)
        handle.write(count == block.count / 4 ? block : block.prefix(count * 4))
        left -= count
      }
    }
  }
}
