import Checkpoint
import FMBoost
import Foundation
import Imaging
import NN
import StableDiffusion
import Testing
import TestSupport
import Torch

/// `fmboost generate` end to end on the tiny SD1.5-topology single file (random weights: the image
/// is noise-like; the sizes, the determinism, the metadata and the errors are the point).
@Suite struct GenerateCommandTests {
  static let prompt = "a photograph of an astronaut riding a horse"

  static func generate(_ model: String, _ out: String, _ extra: [String], size: Int = 32) throws -> CommandRunner.Result {
    try CommandRunner.fmboost(["generate", prompt, "--model", model, "-W", "\(size)", "-H", "\(size)", "--steps", "3", "-o", out,
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

  static let imageName = "3-a-photograph-of-an-astronaut-riding.png"

  /// Runs generate with seed 3 into `dir/name` and reads the image and its `parameters` text.
  static func image(_ model: String, _ dir: URL, _ name: String, _ extra: [String], size: Int = 32) throws -> (Tensor, String) {
    let result = try generate(model, dir.appendingPathComponent(name).path, ["--seed", "3"] + extra, size: size)
    #expect(result.status == 0, "\(extra): \(result.error)")
    let path = dir.appendingPathComponent(name + "/" + imageName).path
    return (try ImageFile.read(path), try #require(try ImageFile.pngText(path)["parameters"]))
  }

  /// --clip-skip and --lora reach the image and are recorded; a LoRA at scale 0 changes nothing.
  @Test func clipSkipAndLoRAChangeTheImageAndAreRecorded() throws {
    let model = try TinyStableDiffusion.singleFile()
    let dir = try temporaryDirectory("generate-options")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (base, _) = try Self.image(model, dir, "base", ["--boost", "none"])
    let (skipped, skippedText) = try Self.image(model, dir, "skip", ["--boost", "none", "--clip-skip", "2"])
    #expect(try skipped.maxAbsDifference(base) > 0.01)
    #expect(skippedText.contains("Clip skip: 2"))
    let lora = TinyStableDiffusion.goldenSD + "lora_tiny.kohya.safetensors"
    let (merged, mergedText) = try Self.image(model, dir, "lora", ["--boost", "none", "--lora", lora + ":0.8"])
    #expect(try merged.maxAbsDifference(base) > 0.01)
    #expect(mergedText.contains("LoRA: lora_tiny.kohya.safetensors"))
    let (unscaled, _) = try Self.image(model, dir, "lora0", ["--boost", "none", "--lora", lora + ":0"])
    #expect(try unscaled.maxAbsDifference(base) == 0)
  }

  /// --boost MODEL: a CFM network on SD latents (the golden `unet_a`, 4 latent channels as the tiny
  /// SD's autoencoder) runs the paper's path; --cascade 2 runs it twice; --tile keeps the size.
  @Test func aBoostModelOnSDLatentsCascadesAndTiles() throws {
    let model = try TinyStableDiffusion.singleFile()
    let dir = try temporaryDirectory("generate-boost-model")
    defer { try? FileManager.default.removeItem(at: dir) }
    let cfm = Shared.golden("unet_a.weights.safetensors")
    let (twice, text) = try Self.image(model, dir, "x2", ["--boost", cfm])
    #expect(twice.shape == [3, 64, 64])
    #expect(text.contains("Boost: unet_a.weights.safetensors ×2"))
    let (four, _) = try Self.image(model, dir, "x4", ["--boost", cfm, "--cascade", "2"])
    #expect(four.shape == [3, 128, 128])
    // 32 px tiles blended over a quarter of their width: seams differ (up to 0.14 here, on a
    // noise-like image), the rest is the whole image's (mean 0.011); a misplaced tile would not be.
    let (whole, _) = try Self.image(model, dir, "default", [])
    let (tiled, _) = try Self.image(model, dir, "tiled", ["--tile", "32"])
    #expect(tiled.shape == [3, 64, 64] && whole.shape == [3, 64, 64])
    #expect(try (tiled - whole).abs().mean().item() < 0.03)
  }

  /// --decoder: a TAESD-family decoder of the model's latents (4 channels, ×8) decodes the base
  /// latent; one of other latents, or an encoder, is refused by name before the SD weights are read.
  @Test func aPreviewDecoderDecodesTheBaseLatent() throws {
    let dir = try temporaryDirectory("generate-decoder")
    defer { try? FileManager.default.removeItem(at: dir) }
    func write(_ module: Module, _ name: String) throws -> String {
      let url = dir.appendingPathComponent(name)
      try SafeTensors.write(module.stateDict(), to: url)
      return url.path
    }
    let g = try Generator(seed: 4)
    // The tiny single file's `vae_a` downsamples ×2; TAESD decodes ×8, as SD1.5's autoencoder does.
    var config = AutoencoderKLConfig()
    (config.ch, config.chMult, config.numResBlocks) = (32, [1, 1, 1, 1], 1)
    let vae8 = try AutoencoderKL(config, ParameterSource.fresh(generator: g).root).stateDict().map { ("first_stage_model." + $0.0, $0.1) }
    let model = try TinyStableDiffusion.singleFile(extra: vae8, dropping: { $0.hasPrefix("first_stage_model.") })
    let taesd = try write(TAESDDecoder(.taesd, ParameterSource.fresh(generator: g).root), "taesd_decoder.safetensors")
    // 64 px: 8×8 latents, the least the tiny UNet's three down-samplings take.
    let (preview, _) = try Self.image(model, dir, "preview", ["--boost", "none", "--decoder", taesd], size: 64)
    let (base, _) = try Self.image(model, dir, "base", ["--boost", "none"], size: 64)
    #expect(preview.shape == [3, 64, 64] && base.shape == [3, 64, 64])
    #expect(try preview.maxAbsDifference(base) > 0.01)

    let taef1 = try write(TAESDDecoder(.taef1, ParameterSource.fresh(generator: g).root), "taef1_decoder.safetensors")
    let wide = try Self.generate(model, dir.appendingPathComponent("wide").path, ["--boost", "none", "--decoder", taef1], size: 64)
    #expect(wide.status != 0 && wide.error.contains("taef1_decoder.safetensors") && wide.error.contains("16 latent channels"), "\(wide.error)")
    let coarse = try Self.generate(TinyStableDiffusion.singleFile(), dir.appendingPathComponent("coarse").path, ["--boost", "none", "--decoder", taesd])
    #expect(coarse.status != 0 && coarse.error.contains("×2"), "\(coarse.error)")
    let encoder = try write(TAESDEncoder(.taesd, ParameterSource.fresh(generator: g).root), "taesd_encoder.safetensors")
    let notDecoder = try Self.generate(model, dir.appendingPathComponent("enc").path, ["--boost", "none", "--decoder", encoder], size: 64)
    #expect(notDecoder.status != 0 && notDecoder.error.contains("not a TAESD-family decoder"), "\(notDecoder.error)")
  }
}
