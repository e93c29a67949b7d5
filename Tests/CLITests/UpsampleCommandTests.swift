import Checkpoint
import FMBoost
import Foundation
import Imaging
import Testing
import TestSupport
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
    // 45×30 → exactly 90×60 (padded to the model's multiple, cropped back).
    let x2 = try ImageFile.read(out + "/chelsea_small.png")
    #expect(x2.shape == [3, 60, 90])
    #expect(try ImageFile.read(out + "/chelsea_small_compare.png").shape == [3, 60, 180])
    let out4 = dir.appendingPathComponent("x4").path
    let twice = try CommandRunner.fmboost(["upsample", input, "--cascade", "2", "--method", "rk4"] + common(out4))
    #expect(twice.status == 0, "\(twice.error)")
    #expect(try ImageFile.read(out4 + "/chelsea_small.png").shape == [3, 120, 180])
    // --scale 4 of a ×2 model is its two stages: the same pixels.
    let scaled = dir.appendingPathComponent("scale4").path
    let byScale = try CommandRunner.fmboost(["upsample", input, "--scale", "4", "--method", "rk4"] + common(scaled))
    #expect(byScale.status == 0, "\(byScale.error)")
    #expect(try ImageFile.read(scaled + "/chelsea_small.png").equal(ImageFile.read(out4 + "/chelsea_small.png")))
    let three = try CommandRunner.fmboost(["upsample", input, "--scale", "3"] + common(dir.appendingPathComponent("x3").path))
    #expect(three.status == 1 && three.error.contains("--scale: ×3 is not 1 to 4 stages of the ×2 model"), "\(three.error)")
    let both = try CommandRunner.fmboost(["upsample", input, "--scale", "4", "--cascade", "2"] + common(scaled))
    #expect(both.status != 0 && both.error.contains("not both"), "\(both.error)")
    // Same seed, same output; never overwritten without --force.
    let again = try CommandRunner.fmboost(["upsample", input] + common(out))
    #expect(again.status != 0 && again.error.contains("--force"))
    let forced = try CommandRunner.fmboost(["upsample", input, "--force"] + common(out))
    #expect(forced.status == 0)
    #expect(try ImageFile.read(out + "/chelsea_small.png").equal(x2))
    // Tiled flow and decoder give the same size.
    let tiled = dir.appendingPathComponent("tiled").path
    // --tile is in output pixels: 16 px = 8 latent positions of the ×2 toy autoencoder.
    let t = try CommandRunner.fmboost(["upsample", input, "--tile", "16"] + common(tiled))
    #expect(t.status == 0, "\(t.error)")
    #expect(try ImageFile.read(tiled + "/chelsea_small.png").shape == [3, 60, 90])
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

  /// The library's result for the options the CLI was given, written and read back as the CLI does.
  func libraryResult(_ input: String, in dir: URL, _ adjust: (inout UpsamplingRecipe) -> Void) throws -> Tensor {
    let loaded = try FlowModelLoader.load(Shared.golden("unet_a.weights.safetensors"))
    let autoencoder = try AutoencoderLoader.load([Shared.golden("vae_a.weights.safetensors")])
    var recipe = loaded.recipe
    recipe.steps = 3
    adjust(&recipe)
    let upsampler = try Upsampler(flow: loaded.flow, autoencoder: autoencoder, recipe: recipe)
    let image = try ImageFile.read(input, range: autoencoder.pixelRange).unsqueeze(dim: 0)
    let result = try upsampler.upsampleAnySize(image: image, factor: 2, generator: Generator(seed: 2024)).image
    let path = dir.appendingPathComponent("library-\(UUID().uuidString).png").path
    try ImageFile.write(result, to: path, range: autoencoder.pixelRange)
    return try ImageFile.read(path)
  }

  @Test func everyOptionChangesTheOutputAsTheLibraryDoes() throws {
    let dir = try temporaryDirectory("upsample-options")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = try smallPhoto(in: dir)
    func cli(_ name: String, _ options: [String]) throws -> Tensor {
      let out = dir.appendingPathComponent(name).path
      let run = try CommandRunner.fmboost(["upsample", input] + common(out) + options)
      #expect(run.status == 0, "\(options): \(run.error)")
      return try ImageFile.read(out + "/chelsea_small.png")
    }
    let baseline = try cli("baseline", [])
    #expect(try baseline.equal(libraryResult(input, in: dir) { _ in }))
    let variants: [(String, [String], (inout UpsamplingRecipe) -> Void)] = [
      ("method", ["--method", "rk4"], { $0.method = .rk4 }),
      ("mode", ["--mode", "bilinear"], { $0.mode = .bilinear }),
      ("noising", ["--noising-step", "100"], { $0.noisingStep = 100 }),
      ("scale", ["--scale-factor", "0.5"], { $0.latentScale = 0.5 }),
      ("tile", ["--tile", "16"], { $0.tile = 8 }),
    ]
    for (name, options, adjust) in variants {
      let fromCLI = try cli(name, options)
      let fromLibrary = try libraryResult(input, in: dir, adjust)
      #expect(try fromCLI.equal(fromLibrary), "\(options): the CLI and the library disagree")
      #expect(try !fromCLI.equal(baseline), "\(options) did not change the output")
    }
  }

  @Test func invalidOptionsAreRefusedBeforeAnyWork() throws {
    let dir = try temporaryDirectory("upsample-invalid")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = try smallPhoto(in: dir)
    let out = dir.appendingPathComponent("out").path
    for (options, message) in [
      (["--scale-factor", "0"], "--scale-factor must be a positive number"),
      (["--noising-step", "1000"], "--noising-step must be 0 (off) or 2…999"),
      (["--threads", "3000000000"], "--threads must be between 1 and 1024"),
      (["--method", "dopri5", "--atol=-1"], "--atol must be a positive finite number"),
      (["--method", "dopri5", "--rtol", "nan"], "--rtol must be a positive finite number"),
      (["--tile", "15"], "--tile 15: must be a multiple of the first stage's 2 pixels"),
    ] {
      let run = try CommandRunner.fmboost(["upsample", input] + common(out) + options)
      #expect(run.status != 0 && run.error.contains(message), "\(options): \(run.error)")
    }
    #expect(!FileManager.default.fileExists(atPath: out + "/chelsea_small.png"))
  }

  @Test func outputsMirrorTheInputTree() throws {
    let dir = try temporaryDirectory("upsample-tree")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = try smallPhoto(in: dir)
    let tree = dir.appendingPathComponent("in")
    for sub in ["a", "b/c"] {
      try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: input, toPath: tree.appendingPathComponent("\(sub)/same.png").path)
    }
    let out = dir.appendingPathComponent("out").path
    let run = try CommandRunner.fmboost(["upsample", tree.path] + common(out))
    #expect(run.status == 0, "\(run.error)")
    #expect(FileManager.default.fileExists(atPath: out + "/a/same.png") && FileManager.default.fileExists(atPath: out + "/b/c/same.png"))
    // Two files of the same name given one by one would overwrite each other: refused.
    let clash = try CommandRunner.fmboost(["upsample", tree.path + "/a/same.png", tree.path + "/b/c/same.png"] + common(dir.appendingPathComponent("clash").path))
    #expect(clash.status != 0 && clash.error.contains("would both be written as same"))
  }

  @Test func dopri5AgreesWithFineRK4OnARealPhoto() throws {
    let dir = try temporaryDirectory("upsample-dopri5")
    defer { try? FileManager.default.removeItem(at: dir) }
    // A 96×96 crop of a real photo through the shipped default model.
    let photo = try ImageFile.read(Shared.photo("coffee.png")).narrow(dim: 1, start: 100, length: 96).narrow(dim: 2, start: 200, length: 96)
    let input = dir.appendingPathComponent("crop.png").path
    try ImageFile.write(photo, to: input)
    func run(_ options: [String]) throws -> (Tensor, String) {
      let out = dir.appendingPathComponent(options.joined(separator: "_")).path
      let result = try CommandRunner.fmboost(["upsample", input, "-o", out] + options)
      #expect(result.status == 0, "\(result.error)")
      return (try ImageFile.read(out + "/crop.png"), result.output)
    }
    let (adaptive, log) = try run(["--method", "dopri5"])
    let (reference, _) = try run(["--method", "rk4", "--steps", "40"])
    let mse = try (adaptive - reference).square().mean().item()
    let psnr = 10 * log10(1 / max(mse, 1e-12))
    #expect(psnr >= 40, "dopri5 vs rk4 40 steps: \(psnr) dB")
    #expect(log.contains("network evaluations") && log.contains("atol 1e-06 rtol 0.001"), "\(log)")
  }

  /// `--precision bf16` runs the shipped model under autocast: close to fp32 (bfloat16 keeps 8 bits
  /// of mantissa, so not equal); fp16 runs where this libtorch's CPU autocast has it, and is refused
  /// with a message naming the option where it does not (libtorch 1.13).
  @Test func reducedPrecisionIsCloseToFP32OrRefused() throws {
    let dir = try temporaryDirectory("upsample-precision")
    defer { try? FileManager.default.removeItem(at: dir) }
    let photo = try ImageFile.read(Shared.photo("coffee.png")).narrow(dim: 1, start: 100, length: 64).narrow(dim: 2, start: 200, length: 96)
    let input = dir.appendingPathComponent("crop.png").path
    try ImageFile.write(photo, to: input)
    func run(_ precision: String) throws -> CommandRunner.Result {
      try CommandRunner.fmboost(["upsample", input, "-o", dir.appendingPathComponent(precision).path, "--precision", precision])
    }
    func output(_ precision: String) throws -> Tensor { try ImageFile.read(dir.appendingPathComponent("\(precision)/crop.png").path) }
    let fp32 = try run("fp32"), bf16 = try run("bf16")
    #expect(fp32.status == 0 && bf16.status == 0, "\(fp32.error) \(bf16.error)")
    #expect(bf16.output.contains(", bf16 on cpu, "), "\(bf16.output)")
    let mse = try (output("bf16") - output("fp32")).square().mean().item()
    let psnr = 10 * log10(1 / max(mse, 1e-12))
    print("upsample --precision bf16 against fp32: \(psnr) dB")
    // 34.5 dB on an AVX2 Zen 3 (bf16 emulated), over 35 on AVX-512 CPUs: the kernels round
    // differently by CPU. 30 dB is an RMS difference of 8 levels in 255, far from a broken path.
    #expect(mse > 0 && psnr >= 30, "bf16 against fp32: \(psnr) dB")
    let fp16 = try run("fp16")
    if autocastSupports(.float16) {
      #expect(fp16.status == 0, "\(fp16.error)")
    } else {
      #expect(fp16.status != 0 && fp16.error.contains("--precision fp16: this libtorch's CPU autocast cannot compute in"), "\(fp16.error)")
    }
  }

  /// Every size in, exactly 2W × 2H out, with the shipped default model (padded to its size multiple, cropped back).
  @Test(arguments: [(7, 5), (451, 300), (1023, 769)])
  func anySizeGivesExactlyTwiceTheSize(width: Int, height: Int) throws {
    let dir = try temporaryDirectory("upsample-any")
    defer { try? FileManager.default.removeItem(at: dir) }
    let photo = try ImageFile.read(Shared.photo("coffee.png")).unsqueeze(dim: 0).interpolate(size: (height, width), mode: .bilinear)
    let input = dir.appendingPathComponent("in.png").path
    try ImageFile.write(photo, to: input)
    let out = dir.appendingPathComponent("out").path
    let run = try CommandRunner.fmboost(["upsample", input, "-o", out])
    #expect(run.status == 0, "\(run.error)")
    let result = try ImageFile.read(out + "/in.png")
    #expect(result.shape == [3, 2 * height, 2 * width])
    // Nothing cut, nothing shifted: the result downscaled is close to the input everywhere, edges included.
    let back = try result.unsqueeze(dim: 0).interpolate(size: (height, width), mode: .area)
    let worstColumn = try (back - photo).abs().mean([0, 1, 2]).max().item()
    #expect(worstColumn < 0.1, "\(width)×\(height): worst column differs by \(worstColumn)")
  }

  @Test func aOnePixelImageIsRefused() throws {
    let dir = try temporaryDirectory("upsample-1px")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("dot.png").path
    try ImageFile.write(Tensor.rand([3, 1, 1]), to: input)
    let run = try CommandRunner.fmboost(["upsample", input, "-o", dir.appendingPathComponent("out").path])
    #expect(run.status != 0 && run.error.contains("1×1 pixels is too small to upsample (at least 2×2)"), "\(run.error)")
  }
}
