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
}
