import Checkpoint
import Foundation
import Imaging
import TestSupport
import Testing
import Torch

@Suite struct EncodeDecodeCommandTests {
  /// A real photo through the real TAEF2 encoder and decoder.
  @Test func taef2RoundTripOfARealPhotoIsFaithful() throws {
    let photo = Shared.photo("coffee.png")
    let dir = try temporaryDirectory("taef2-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let vae = Shared.weights("taef2_encoder.pth") + "," + Shared.weights("taef2_decoder.pth")
    let latents = dir.appendingPathComponent("latents").path, images = dir.appendingPathComponent("images").path
    let encode = try CommandRunner.fmboost(["encode", photo, "-o", latents, "--vae", vae])
    #expect(encode.status == 0, "\(encode.error)")
    let latentFile = try SafeTensorsFile(path: latents + "/coffee.safetensors")
    #expect(latentFile.entries["latent"]?.shape == [32, 50, 75])
    #expect(latentFile.metadata["image_width"] == "600" && latentFile.metadata["autoencoder"] == "taef2")
    let decode = try CommandRunner.fmboost(["decode", latents, "-o", images, "--vae", vae])
    #expect(decode.status == 0, "\(decode.error)")
    let original = try ImageFile.read(photo), decoded = try ImageFile.read(images + "/coffee.png")
    #expect(decoded.shape == original.shape)
    let mse = try (decoded - original).square().mean().item()
    let psnr = 10 * log10(1 / mse)
    print("TAEF2 encode→decode of coffee.png (600×400): PSNR \(String(format: "%.2f", psnr)) dB")
    #expect(psnr > 25)
  }

  @Test func unreadableInputsFailAloneAndTheExitCodeSaysSo() throws {
    let dir = try temporaryDirectory("encode-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let broken = dir.appendingPathComponent("broken.png").path
    try Data("not a png".utf8).write(to: URL(fileURLWithPath: broken))
    let out = dir.appendingPathComponent("out").path
    let result = try CommandRunner.fmboost(["encode", broken, Shared.photo("chelsea.png"), "-o", out, "--vae", Shared.weights("taef2_encoder.pth")])
    #expect(result.status != 0)
    #expect(result.error.contains(broken))
    #expect(FileManager.default.fileExists(atPath: out + "/chelsea.safetensors"))
  }

  /// `--tile` is pixels of the full-resolution image in both directions: the same number tiles an
  /// encode and a decode alike, and a size the autoencoder cannot take is refused up front.
  @Test func tilesArePixelsInEncodeAndDecode() throws {
    let dir = try temporaryDirectory("tile-units")
    defer { try? FileManager.default.removeItem(at: dir) }
    let vae = Shared.weights("taef2_encoder.pth") + "," + Shared.weights("taef2_decoder.pth")
    let photo = Shared.photo("coffee.png")
    let latents = dir.appendingPathComponent("latents").path
    #expect(try CommandRunner.fmboost(["encode", photo, "-o", latents, "--vae", vae]).status == 0)
    let whole = dir.appendingPathComponent("whole").path, tiled = dir.appendingPathComponent("tiled").path
    #expect(try CommandRunner.fmboost(["decode", latents, "-o", whole, "--vae", vae]).status == 0)
    let t = try CommandRunner.fmboost(["decode", latents, "-o", tiled, "--vae", vae, "--tile", "256"])
    #expect(t.status == 0, "\(t.error)")
    let a = try ImageFile.read(whole + "/coffee.png"), b = try ImageFile.read(tiled + "/coffee.png")
    // 256 px = 32 latent positions: a 600×400 image in several tiles, blended, close to the whole decode.
    let difference = try (a - b).abs().mean().item()
    #expect(a.shape == b.shape && difference < 0.05, "mean difference \(difference)")
    #expect(try !a.equal(b))
    for command in [["encode", photo], ["decode", latents]] {
      let bad = try CommandRunner.fmboost(command + ["-o", dir.appendingPathComponent("bad").path, "--vae", vae, "--tile", "20"])
      #expect(bad.status != 0 && bad.error.contains("--tile 20: must be a multiple of the first stage's 8 pixels"), "\(bad.error)")
    }
  }
}
