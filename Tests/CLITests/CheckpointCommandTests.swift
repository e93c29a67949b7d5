import Checkpoint
import Foundation
import TestSupport
import Testing

@Suite struct CheckpointCommandTests {
  @Test func inspectListsTensorsAndSkippedClasses() throws {
    let tree = try CommandRunner.fmboost(["inspect", Shared.golden("lightning_like.ckpt")])
    #expect(tree.status == 0)
    #expect(tree.output.contains("torch.save (zip), 272 tensors"))
    #expect(tree.output.contains("skipped (recorded by name, never constructed): omegaconf.dictconfig.DictConfig"))
    let json = try CommandRunner.fmboost(["inspect", "--json", Shared.weights("taef2_encoder.pth")])
    let report = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
    #expect(report["tensor_count"] as? Int == 79)
    #expect(report["format"] as? String == "torch.save (zip)")
  }

  @Test func convertWritesEmaWeightsAndRefusesToOverwrite() throws {
    let dir = try temporaryDirectory("convert-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("ema.safetensors").path
    let first = try CommandRunner.fmboost(["convert", Shared.golden("lightning_like.ckpt"), out, "--weights", "ema"])
    #expect(first.status == 0, "\(first.error)")
    let converted = try SafeTensorsFile(path: out)
    let reference = try SafeTensorsFile(path: Shared.golden("unet_a.weights.safetensors"))
    #expect(Set(converted.keys) == Set(reference.keys))
    let again = try CommandRunner.fmboost(["convert", Shared.golden("lightning_like.ckpt"), out])
    #expect(again.status != 0 && again.error.contains("--force"))
    let legacy = dir.appendingPathComponent("vae.safetensors").path
    #expect(try CommandRunner.fmboost(["convert", Shared.golden("vae_a_flat_legacy.ckpt"), legacy]).status == 0)
    let vae = try SafeTensorsFile(path: legacy), vaeReference = try SafeTensorsFile(path: Shared.golden("vae_a.weights.safetensors"))
    for key in vaeReference.keys { #expect(try vae.bytes(key) == vaeReference.bytes(key)) }
    #expect(try CommandRunner.fmboost(["convert", Shared.weights("taef2_encoder.pth"), dir.appendingPathComponent("t.safetensors").path]).status == 0)
  }

  @Test func hostileFileExitsNonZeroWithTheFileName() throws {
    let dir = try temporaryDirectory("inspect-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let bad = dir.appendingPathComponent("bad.ckpt").path
    let bytes = try Data(contentsOf: URL(fileURLWithPath: Shared.golden("lightning_like.ckpt")))
    try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: bad))
    let result = try CommandRunner.fmboost(["inspect", bad])
    #expect(result.status == 1)
    #expect(result.error.contains(bad))
  }
}
