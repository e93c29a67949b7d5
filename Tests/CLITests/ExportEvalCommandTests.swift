import Checkpoint
import FMBoost
import Foundation
import Imaging
import Testing
import TestSupport
import Torch
import Training

/// train → export → upsample with the model's own settings → eval, with a tiny pixel-unshuffle model.
@Suite struct ExportEvalCommandTests {
  /// `fmboost train` of cpu-tiny as a pixel-unshuffle ×`factor` model (levels ×1 ×2, no attention,
  /// no noise augmentation) in `folder`/logs, with `overrides`; returns its last checkpoint.
  static func trainTinyPixelUnshuffle(in folder: URL, factor: Int, steps: Int, _ overrides: [String]) throws -> String {
    let logs = folder.appendingPathComponent("logs").path
    let channels = 3 * factor * factor
    let train = try CommandRunner.fmboost([
      "train", "--config", TrainCommandTests.repo.appendingPathComponent("configs/cpu-tiny.yaml").path, "--data", Shared.photo(""),
      "--name", "tiny", "--logs", logs, "--max-steps", String(steps), "--threads", "1",
      "model.params.fm_cfg.params.net_cfg.params.channel_mult=[1, 2]", "model.params.fm_cfg.params.net_cfg.params.attention_resolutions=[]",
      "model.params.first_stage_cfg.target=fmboost.pixel_unshuffle.PixelUnshuffle", "model.params.first_stage_cfg.params.factor=\(factor)",
      "model.params.fm_cfg.params.net_cfg.params.in_channels=\(2 * channels)", "model.params.fm_cfg.params.net_cfg.params.out_channels=\(channels)",
      "model.params.noising_step=-1", "train.val_check_interval=1000",
    ] + overrides)
    #expect(train.status == 0, "\(train.error)")
    let run = try #require(try FileManager.default.contentsOfDirectory(atPath: logs).first)
    return "\(logs)/\(run)/checkpoints/last.safetensors"
  }

  @Test func exportedModelRunsWithoutFlagsAndEvalReportsEveryMethod() throws {
    let folder = try temporaryDirectory("export-eval")
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = try Self.trainTinyPixelUnshuffle(in: folder, factor: 2, steps: 2, [
      "model.params.low_res_downsampling=bicubic_antialias", "model.params.scale_factor=1.5", "train.val_steps=3",
    ])
    let model = folder.appendingPathComponent("model.safetensors").path
    let export = try CommandRunner.fmboost(["export", checkpoint, "-o", model, "--half"])
    #expect(export.status == 0, "\(export.error)")
    let file = try SafeTensorsFile(path: model)
    #expect(file.metadata["format"] == ModelExport.format)
    let recipe = try JSONDecoder().decode(UpsamplingRecipe.self, from: Data(try #require(file.metadata["pipeline"]).utf8))
    #expect(recipe == UpsamplingRecipe(firstStage: .pixelUnshuffle(factor: 2), latentScale: 1.5, mode: .bilinear, noisingStep: -1,
                                       startFromNoise: false, lowResDownsampling: "bicubic_antialias", method: .euler, steps: 3))
    #expect(try file.tensors().values.allSatisfy { $0.dtype == .float16 })
    // Exporting again without --force keeps the file and says so.
    let again = try CommandRunner.fmboost(["export", checkpoint, "-o", model])
    #expect(again.status != 0 && again.error.contains("--force"))

    // A 90×60 crop of a real photo: the tiny network's middle-block attention is quadratic in positions.
    let small = folder.appendingPathComponent("chelsea.png").path
    try ImageFile.write(try ImageFile.read(Shared.photo("chelsea.png"), range: .unit).narrow(dim: 1, start: 100, length: 60)
      .narrow(dim: 2, start: 180, length: 90), to: small, range: .unit)
    let out = folder.appendingPathComponent("out").path
    let up = try CommandRunner.fmboost(["upsample", small, "-o", out, "--model", model, "--compare"])
    #expect(up.status == 0, "\(up.error)")
    #expect(up.output.contains("first stage pixel-unshuffle-2, fp32 on cpu, euler 3 steps"))
    let image = try ImageFile.read(out + "/chelsea.png", range: .unit)
    #expect(image.shape == [3, 120, 180])
    let compare = try ImageFile.read(out + "/chelsea_compare.png", range: .unit)
    #expect(compare.size(2) == 2 * image.size(2))

    let csv = folder.appendingPathComponent("eval.csv").path
    let eval = try CommandRunner.fmboost(["eval", Shared.photo("chelsea.png"), Shared.photo("coffee.png"), "--model", model,
                                         "--steps", "1,2", "--max-side", "64", "--csv", csv])
    #expect(eval.status == 0, "\(eval.error)")
    for method in ["| bilinear |", "| bicubic |", "| model euler 1 step |", "| model euler 2 steps |"] {
      #expect(eval.output.contains(method), "\(eval.output)")
    }
    let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
    #expect(rows.count == 1 + 2 * 4 + 4)
    // Bicubic beats bilinear on real photos; a broken metric or downsampling would not show it.
    let means = rows.filter { $0.hasPrefix("mean,") }.map { $0.split(separator: ",") }
    let psnr = Dictionary(uniqueKeysWithValues: means.map { (String($0[1]), Double($0[2]) ?? .nan) })
    #expect((psnr["bicubic"] ?? .nan) > (psnr["bilinear"] ?? .nan) + 0.3, "\(psnr)")
    // --cascade 2: ×4 from a ×1/4 downscale, two model stages; ×4 loses far more than ×2.
    let csv4 = folder.appendingPathComponent("eval4.csv").path
    let eval4 = try CommandRunner.fmboost(["eval", Shared.photo("chelsea.png"), Shared.photo("coffee.png"), "--model", model,
                                          "--steps", "1", "--max-side", "64", "--cascade", "2", "--csv", csv4])
    #expect(eval4.status == 0 && eval4.output.contains("×4 from bicubic-antialiased downscales"), "\(eval4.error)")
    let means4 = try String(contentsOfFile: csv4, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("mean,") }.map { $0.split(separator: ",") }
    let psnr4 = Dictionary(uniqueKeysWithValues: means4.map { (String($0[1]), Double($0[2]) ?? .nan) })
    #expect(means4.count == 3 && (psnr4["bicubic"] ?? .nan) < (psnr["bicubic"] ?? .nan) - 2, "\(psnr4) vs \(psnr)")
    // --fid: patch FID and KID per method, against the originals' crops at the same anchors.
    let fidCSV = folder.appendingPathComponent("eval-fid.csv").path
    let withFID = try CommandRunner.fmboost(["eval", Shared.photo("chelsea.png"), Shared.photo("coffee.png"), "--model", model,
                                            "--steps", "1", "--max-side", "64", "--fid", "--crops", "4", "--crop-size", "32", "--csv", fidCSV])
    #expect(withFID.status == 0, "\(withFID.error)")
    #expect(withFID.output.contains("FID | KID × 10³ |") && withFID.output.contains("8 crops of at most 32 px"), "\(withFID.output)")
    let fidMeans = try String(contentsOfFile: fidCSV, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("mean,") }
    #expect(fidMeans.count == 3 && fidMeans.allSatisfy { Double($0.split(separator: ",")[8]).map { $0 > 0 } == true }, "\(fidMeans)")
    let bad = try CommandRunner.fmboost(["eval", Shared.photo("chelsea.png"), "--model", model, "--steps", "1,x"])
    #expect(bad.status != 0 && bad.error.contains("--steps"))
  }

  /// A model trained ×4 (16 → 64 px crops) records its scale: `--scale 4` is one stage of it, and
  /// `--scale 16` two; eval measures it against bicubic ×4.
  @Test func aScaleFourModelRunsOneStagePerFourTimes() throws {
    let folder = try temporaryDirectory("export-x4")
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = try Self.trainTinyPixelUnshuffle(in: folder, factor: 4, steps: 1, ["model.params.low_res_size=16", "train.val_steps=1"])
    let model = folder.appendingPathComponent("x4.safetensors").path
    let export = try CommandRunner.fmboost(["export", checkpoint, "-o", model])
    #expect(export.status == 0 && export.output.contains(#""scale":4"#), "\(export.output) \(export.error)")
    let input = folder.appendingPathComponent("chelsea.png").path
    try ImageFile.write(try ImageFile.read(Shared.photo("chelsea.png"), range: .unit).narrow(dim: 1, start: 100, length: 20)
      .narrow(dim: 2, start: 180, length: 30), to: input, range: .unit)
    for (scale, shape) in [(nil, [3, 80, 120]), ("4", [3, 80, 120]), ("16", [3, 320, 480])] {
      let out = folder.appendingPathComponent("out\(scale ?? "")").path
      let up = try CommandRunner.fmboost(["upsample", input, "-o", out, "--model", model] + (scale.map { ["--scale", $0] } ?? []))
      #expect(up.status == 0, "\(up.error)")
      #expect(try ImageFile.read(out + "/chelsea.png").shape == shape)
    }
    let two = try CommandRunner.fmboost(["upsample", input, "-o", folder.appendingPathComponent("x2").path, "--model", model, "--scale", "2"])
    #expect(two.status == 1 && two.error.contains("×2 is not 1 to 4 stages of the ×4 model"), "\(two.error)")
    let eval = try CommandRunner.fmboost(["eval", Shared.photo("chelsea.png"), "--model", model, "--max-side", "64", "--steps", "1"])
    #expect(eval.status == 0 && eval.output.contains("×4 from bicubic-antialiased downscales"), "\(eval.output) \(eval.error)")
  }
}
