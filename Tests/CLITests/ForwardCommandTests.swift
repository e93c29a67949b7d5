import Checkpoint
import Foundation
import TestSupport
import Testing
import Torch

/// `fmboost forward` reproduces the reference outputs from the command line.
@Suite struct ForwardCommandTests {
  static let cases: [(network: String, weights: String, io: String, outputs: [String])] = [
    ("unet", "golden/unet_a.weights.safetensors", "unet_a.io.safetensors", ["v"]),
    ("vae-encode", "golden/vae_a.weights.safetensors", "vae_a.io.safetensors", ["mean", "logvar"]),
    ("vae-decode", "golden/vae_a_flat_legacy.ckpt", "vae_a.io.safetensors", ["decoded"]),
    ("taesd-encode", "weights/taef2_encoder.pth", "taef2.io.safetensors", ["latent"]),
    ("taesd-decode", "weights/taef2_decoder.pth", "taef2.io.safetensors", ["decoded"]),
  ]

  @Test(arguments: cases.indices)
  func forwardMatchesTheReference(_ index: Int) throws {
    let c = Self.cases[index]
    let dir = try temporaryDirectory("forward")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.safetensors").path
    var arguments = ["forward", c.network, "--model", Shared.root + "/" + c.weights, "--inputs", Shared.golden(c.io), "--output", out]
    if c.weights.hasSuffix(".ckpt") {
      // A .ckpt has no metadata; the architecture comes from --config.
      let config = try #require(try SafeTensorsFile(path: Shared.golden("vae_a.weights.safetensors")).metadata["config"])
      let configPath = dir.appendingPathComponent("config.json").path
      try config.write(toFile: configPath, atomically: true, encoding: .utf8)
      arguments += ["--config", configPath]
    }
    let result = try CommandRunner.fmboost(arguments)
    #expect(result.status == 0, "\(result.error)")
    let produced = try SafeTensorsFile(path: out)
    let reference = try SafeTensorsFile(path: Shared.golden(c.io))
    for name in c.outputs {
      let expected = try reference.tensor(name)
      let error = try produced.tensor(name).maxAbsDifference(expected)
      #expect(error <= 1e-4 * max(1, try expected.abs().max().item()), "\(c.network) \(name): \(error)")
    }
  }

  @Test(arguments: [("euler", 4, "sol.euler_5", 1e-4), ("rk4", 4, "sol.rk4_5", 1e-4), ("euler", 39, "sol.euler_40", 1e-4), ("dopri5", 1, "sol.dopri5_tol1e-3", 5e-3)])
  func forwardOdeMatchesTorchdiffeq(_ method: String, _ steps: Int, _ key: String, _ tolerance: Double) throws {
    let dir = try temporaryDirectory("forward-ode")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("x1.safetensors").path
    let result = try CommandRunner.fmboost([
      "forward", "ode", "--model", Shared.golden("unet_a.weights.safetensors"), "--inputs", Shared.golden("flow_a.io.safetensors"),
      "--output", out, "--method", method, "--steps", String(steps), "--atol", "1e-3", "--rtol", "1e-3",
    ])
    #expect(result.status == 0, "\(result.error)")
    let error = try SafeTensorsFile(path: out).tensor("x1").maxAbsDifference(SafeTensorsFile(path: Shared.golden("flow_a.io.safetensors")).tensor(key))
    #expect(error <= tolerance, "\(key): \(error)")
  }

  @Test func missingInputsAndConfigAreClearErrors() throws {
    let dir = try temporaryDirectory("forward-errors")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("o.safetensors").path
    let noConfig = try CommandRunner.fmboost(["forward", "unet", "--model", Shared.golden("lightning_like.ckpt"),
                                              "--inputs", Shared.golden("unet_a.io.safetensors"), "--output", out])
    #expect(noConfig.status != 0 && noConfig.error.contains("no architecture config"))
    let wrongInputs = try CommandRunner.fmboost(["forward", "vae-decode", "--model", Shared.golden("vae_a.weights.safetensors"),
                                                 "--inputs", Shared.golden("unet_a.io.safetensors"), "--output", out])
    #expect(wrongInputs.status != 0 && wrongInputs.error.contains("no tensor named 'mean'"))
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  @Test func inputsOfTheWrongRankAreRefusedWithTheirShape() throws {
    let dir = try temporaryDirectory("forward-rank")
    defer { try? FileManager.default.removeItem(at: dir) }
    let inputs = dir.appendingPathComponent("bad.safetensors")
    try SafeTensors.write([("x", try Tensor.rand([16])), ("t", try Tensor.rand([2])), ("context", try Tensor.rand([2, 4, 16, 16]))], to: inputs)
    let out = dir.appendingPathComponent("out.safetensors").path
    let result = try CommandRunner.fmboost(["forward", "unet", "--model", Shared.golden("unet_a.weights.safetensors"),
                                            "--inputs", inputs.path, "--output", out])
    #expect(result.status == 1 && result.error.contains("'x' has shape [16]; unet needs (N, 4, H, W)"), "\(result.error)")
    let tolerance = try CommandRunner.fmboost(["forward", "ode", "--model", Shared.golden("unet_a.weights.safetensors"), "--method", "dopri5",
                                               "--atol", "0", "--inputs", Shared.golden("flow_a.io.safetensors"), "--output", out])
    #expect(tolerance.status != 0 && tolerance.error.contains("--atol must be a positive finite number"))
  }
}
