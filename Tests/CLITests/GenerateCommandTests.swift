import Checkpoint
import Foundation
import Imaging
import TestSupport
import Testing
import Torch

/// `fmboost generate` end to end on the tiny SD1.5-topology single file (random weights: the image
/// is noise-like; the sizes, the determinism, the metadata and the errors are the point).
@Suite struct GenerateCommandTests {
  static let prompt = "a photograph of an astronaut riding a horse"

  static func generate(_ model: String, _ out: String, _ extra: [String]) throws -> CommandRunner.Result {
    try CommandRunner.fmboost(["generate", prompt, "--model", model, "-W", "32", "-H", "32", "--steps", "3", "-o", out,
                               "--vocabulary", TinyStableDiffusion.vocabulary] + extra)
  }

  @Test func theSameSeedGivesTheSamePNGWithItsSettings() throws {
    let model = try TinyStableDiffusion.singleFile()
    let dir = try temporaryDirectory("generate")
    defer { try? FileManager.default.removeItem(at: dir) }
    let first = try Self.generate(model, dir.appendingPathComponent("a").path, ["--boost", "none", "--seed", "7", "--negative-prompt", "blurry"])
    #expect(first.status == 0, "\(first.error)")
    let second = try Self.generate(model, dir.appendingPathComponent("b").path, ["--boost", "none", "--seed", "7", "--negative-prompt", "blurry"])
    #expect(second.status == 0, "\(second.error)")
    let name = "7-a-photograph-of-an-astronaut-riding.png"
    let a = try Data(contentsOf: dir.appendingPathComponent("a/" + name)), b = try Data(contentsOf: dir.appendingPathComponent("b/" + name))
    #expect(a == b)
    #expect(try ImageFile.read(dir.appendingPathComponent("a/" + name).path).shape == [3, 32, 32])
    let parameters = try #require(try ImageFile.pngText(dir.appendingPathComponent("a/" + name).path)["parameters"])
    #expect(parameters.hasPrefix(Self.prompt + "\nNegative prompt: blurry\nSteps: 3, Sampler: dpmpp-2m, CFG scale: 7.5, Seed: 7, Size: 32x32"))
    #expect(first.output.contains("sample 1 (3 steps)") && first.output.contains("decode 32×32"))
    // Another seed, another image; the file is not overwritten without --force.
    let other = try Self.generate(model, dir.appendingPathComponent("a").path, ["--boost", "none", "--seed", "8"])
    let otherImage = try Data(contentsOf: dir.appendingPathComponent("a/8-a-photograph-of-an-astronaut-riding.png"))
    #expect(other.status == 0 && otherImage != a)
    let again = try Self.generate(model, dir.appendingPathComponent("a").path, ["--boost", "none", "--seed", "7"])
    #expect(again.status != 0 && again.error.contains("exists"))
  }

  @Test func theDefaultBoostDoublesTheBaseImage() throws {
    let model = try TinyStableDiffusion.singleFile()
    let dir = try temporaryDirectory("generate-boost")
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try Self.generate(model, dir.path, ["--scheduler", "euler-a", "-n", "2"])
    #expect(result.status == 0, "\(result.error)")
    for seed in [0, 1] {
      let path = dir.appendingPathComponent("\(seed)-a-photograph-of-an-astronaut-riding.png").path
      #expect(try ImageFile.read(path).shape == [3, 64, 64])
      #expect(try ImageFile.pngText(path)["parameters"]?.contains("Sampler: euler-a") == true)
    }
    #expect(result.output.contains("boost ×2"))
  }

  @Test func badInputsGetClearErrors() throws {
    let dir = try temporaryDirectory("generate-errors")
    defer { try? FileManager.default.removeItem(at: dir) }
    let missing = try Self.generate("/nonexistent/sd15.safetensors", dir.path, [])
    #expect(missing.status != 0 && missing.error.contains("/nonexistent/sd15.safetensors") && missing.error.contains("does not exist"))
    let model = try TinyStableDiffusion.singleFile()
    let lora = dir.appendingPathComponent("other.safetensors")
    try SafeTensors.write([("lora_unet_down_blocks_0_attentions_9_proj_in.lora_down.weight", try Tensor.zeros([4, 32])),
                              ("lora_unet_down_blocks_0_attentions_9_proj_in.lora_up.weight", try Tensor.zeros([32, 4]))], to: lora)
    let foreign = try Self.generate(model, dir.path, ["--lora", lora.path + ":0.5", "--boost", "none"])
    #expect(foreign.status != 0 && foreign.error.contains("another model"), "\(foreign.error)")
    let odd = try Self.generate(model, dir.path, ["-W", "30"])
    #expect(odd.status != 0 && odd.error.contains("multiples of 8"))
    let karras = try Self.generate(model, dir.path, ["--scheduler", "lcm", "--karras", "--boost", "none"])
    #expect(karras.status != 0 && karras.error.contains("Karras"))
  }
}
