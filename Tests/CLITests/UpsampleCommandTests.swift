import Checkpoint
import Foundation
import Imaging
import TestSupport
import Testing
import Torch

/// `fmboost upsample` end to end with the golden random-weight UNet and autoencoder on a real
/// photo (shrunk, because the toy autoencoder downsamples only ×2, so its attention runs over
/// nearly every pixel). The output is noise-like, as random weights make it; its size is the point.
@Suite struct UpsampleCommandTests {
  func smallPhoto(in dir: URL) throws -> String {
    let photo = try ImageFile.read(Shared.photo("chelsea.png")).unsqueeze(dim: 0)
    let small = try photo.interpolate(size: (30, 45), mode: .area)
    let path = dir.appendingPathComponent("chelsea_small.png").path
    try ImageFile.write(small, to: path)
    return path
  }

  func common(_ out: String) -> [String] {
    ["-o", out, "--model", Shared.golden("unet_a.weights.safetensors"), "--vae", Shared.golden("vae_a.weights.safetensors"), "--steps", "3"]
  }

  @Test func upsamplesTwiceAndFourTimesWithACascade() throws {
    let dir = try temporaryDirectory("upsample")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = try smallPhoto(in: dir)
    let out = dir.appendingPathComponent("x2").path
    let once = try CommandRunner.fmboost(["upsample", input] + common(out) + ["--compare"])
    #expect(once.status == 0, "\(once.error)")
    // 45×30 is cropped to the model's multiple (2): 44×30, then ×2.
    let x2 = try ImageFile.read(out + "/chelsea_small.png")
    #expect(x2.shape == [3, 60, 88])
    #expect(try ImageFile.read(out + "/chelsea_small_compare.png").shape == [3, 60, 176])
    let out4 = dir.appendingPathComponent("x4").path
    let twice = try CommandRunner.fmboost(["upsample", input, "--cascade", "2", "--method", "rk4"] + common(out4))
    #expect(twice.status == 0, "\(twice.error)")
    #expect(try ImageFile.read(out4 + "/chelsea_small.png").shape == [3, 120, 176])
    // Same seed, same output; never overwritten without --force.
    let again = try CommandRunner.fmboost(["upsample", input] + common(out))
    #expect(again.status != 0 && again.error.contains("--force"))
    let forced = try CommandRunner.fmboost(["upsample", input, "--force"] + common(out))
    #expect(forced.status == 0)
    #expect(try ImageFile.read(out + "/chelsea_small.png").equal(x2))
    // Tiled flow and decoder give the same size.
    let tiled = dir.appendingPathComponent("tiled").path
    let t = try CommandRunner.fmboost(["upsample", input, "--tile", "8"] + common(tiled))
    #expect(t.status == 0, "\(t.error)")
    #expect(try ImageFile.read(tiled + "/chelsea_small.png").shape == [3, 60, 88])
  }

  @Test func badInputsAreReportedAndTheRestProcessed() throws {
    let dir = try temporaryDirectory("upsample-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = try smallPhoto(in: dir)
    let broken = dir.appendingPathComponent("broken.jpg").path
    try Data([0xFF, 0xD8, 0xFF, 0x00]).write(to: URL(fileURLWithPath: broken))
    let out = dir.appendingPathComponent("out").path
    let result = try CommandRunner.fmboost(["upsample", broken, input] + common(out))
    #expect(result.status == 1)
    #expect(result.error.contains(broken))
    #expect(FileManager.default.fileExists(atPath: out + "/chelsea_small.png"))
    let noModel = try CommandRunner.fmboost(["upsample", input, "-o", out, "--vae", Shared.golden("vae_a.weights.safetensors"),
                                             "--model", Shared.golden("vae_a.weights.safetensors")])
    #expect(noModel.status == 1 && noModel.error.contains("vae_a.weights.safetensors"))
  }
}
