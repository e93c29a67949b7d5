import Checkpoint
import Foundation
import TestSupport
import Testing
import Torch

@Suite struct SafeTensorsGoldenTests {
  /// Keys and shapes stated in ../shared/golden/README.md (all F32).
  static let expected: [String: [String: [Int]]] = [
    "unet_a.io.safetensors": ["x": [2, 4, 16, 16], "context": [2, 4, 16, 16], "t": [2], "v": [2, 4, 16, 16]],
    "vae_a.io.safetensors": ["image": [1, 3, 32, 32], "mean": [1, 4, 16, 16], "logvar": [1, 4, 16, 16], "decoded": [1, 3, 32, 32]],
    "taef2.io.safetensors": ["image": [1, 3, 64, 96], "latent": [1, 32, 8, 12], "decoded": [1, 3, 64, 96]],
    "schedules.safetensors": ["alpha_bar": [1000], "temb_t": [6], "temb_128": [6, 128], "temb_33": [6, 33]],
    "flow_a.io.safetensors": [
      "x0": [2, 4, 16, 16], "x1": [2, 4, 16, 16], "t": [2], "context": [2, 4, 16, 16], "xt": [2, 4, 16, 16],
      "ut": [2, 4, 16, 16], "vt": [2, 4, 16, 16], "loss": [1], "sol.euler_5": [2, 4, 16, 16],
      "sol.midpoint_5": [2, 4, 16, 16], "sol.rk4_5": [2, 4, 16, 16], "sol.euler_40": [2, 4, 16, 16],
      "sol.dopri5_tol1e-3": [2, 4, 16, 16],
    ],
  ]

  static let allGoldenFiles = [
    "unet_a.weights.safetensors", "unet_a.io.safetensors", "vae_a.weights.safetensors", "vae_a.io.safetensors",
    "flow_a.io.safetensors", "schedules.safetensors", "ema.safetensors", "taef2.io.safetensors",
  ]

  @Test(arguments: Array(expected.keys).sorted())
  func fixtureHasTheDocumentedKeysAndShapes(_ name: String) throws {
    let file = try SafeTensorsFile(path: Shared.golden(name))
    let wanted = Self.expected[name]!
    #expect(Set(file.keys) == Set(wanted.keys))
    for (key, shape) in wanted {
      let entry = try #require(file.entries[key])
      #expect(entry.shape == shape, "\(name) \(key)")
      #expect(entry.dtype == .float32)
    }
    #expect(file.metadata["config"]?.isEmpty == false)
  }

  @Test func scheduleValuesAreTheSpecs() throws {
    let alphaBar = try SafeTensorsFile(path: Shared.golden("schedules.safetensors")).tensor("alpha_bar").toArray(Float.self)
    #expect(alphaBar[400] == 0.6539039611816406)
    #expect(alphaBar[0] == 1.0)
  }

  @Test func emaFixtureHoldsOnlineAndEmaPerStep() throws {
    let file = try SafeTensorsFile(path: Shared.golden("ema.safetensors"))
    #expect(file.keys.contains("step0.ema.weight") && file.keys.contains("step0.online.bias"))
    #expect(file.entries["step0.ema.weight"]?.shape == [2, 3])
    #expect(file.keys.count % 4 == 0)
  }

  /// The UNet weights agree with the independent manifest of the Lightning checkpoint, which holds
  /// the same weights under `model.net.`.
  @Test func unetWeightsAgreeWithTheLightningManifest() throws {
    let manifestData = try Data(contentsOf: URL(fileURLWithPath: Shared.golden("lightning_like.manifest.json")))
    let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
    let tensors = try #require(manifest["tensors"] as? [String: [String: Any]])
    let prefix = "state_dict/model.net."
    let online = tensors.filter { $0.key.hasPrefix(prefix) }
    let file = try SafeTensorsFile(path: Shared.golden("unet_a.weights.safetensors"))
    #expect(Set(file.keys) == Set(online.keys.map { String($0.dropFirst(prefix.count)) }))
    for (key, info) in online {
      let name = String(key.dropFirst(prefix.count))
      let t = try file.tensor(name)
      #expect(t.shape == (info["shape"] as? [Int]), "\(name)")
      let sum = try t.to(.float64).sum().item()
      #expect(abs(sum - (info["sum"] as! Double)) < 1e-6 * max(1, abs(sum)), "\(name)")
      let first = try t.flatten()[0].item(), expectedFirst = info["first"] as! Double
      // Foundation parses JSON doubles to within an ulp; the stored value is a float32.
      #expect(Float(first) == Float(expectedFirst), "\(name): \(first) vs \(expectedFirst)")
    }
  }

  @Test(arguments: allGoldenFiles)
  func roundTripIsByteIdentical(_ name: String) throws {
    let path = Shared.golden(name)
    let file = try SafeTensorsFile(path: path)
    let directory = try temporaryDirectory("st")
    defer { try? FileManager.default.removeItem(at: directory) }
    let copy = directory.appendingPathComponent(name)
    try SafeTensors.write(try file.keys.map { ($0, try file.tensor($0)) }, metadata: file.metadata, to: copy)
    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    let written = try Data(contentsOf: copy)
    #expect(written == original, "\(name): \(written.count) vs \(original.count) bytes")
    // And tensor by tensor, bit for bit.
    let reread = try SafeTensorsFile(path: copy.path)
    for key in file.keys { #expect(try reread.bytes(key) == file.bytes(key)) }
  }

  @Test func everyDtypeRoundTrips() throws {
    let directory = try temporaryDirectory("dtypes")
    defer { try? FileManager.default.removeItem(at: directory) }
    let base = try Tensor([1.5, -2, 0.25, 7] as [Double], shape: [2, 2])
    let tensors = try DType.allCases.map { ("t_\($0)", try base.to($0)) } + [("scalar", try Tensor(scalar: Float(3))), ("empty", try Tensor.zeros([0, 3]))]
    let url = directory.appendingPathComponent("all.safetensors")
    try SafeTensors.write(tensors, metadata: ["note": "quotes \" and \\ and\nnewline, ünïcode"], to: url)
    let file = try SafeTensorsFile(path: url.path)
    #expect(file.metadata["note"] == "quotes \" and \\ and\nnewline, ünïcode")
    for (name, t) in tensors {
      let back = try file.tensor(name)
      #expect(back.dtype == t.dtype && back.shape == t.shape)
      #expect(try back.bytes() == t.bytes())
    }
  }
}
