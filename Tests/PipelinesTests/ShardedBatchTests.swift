import Foundation
import Imaging
import Pipelines
import StableDiffusion
import Testing
import TestSupport

/// `generate --prompts` and `eval` spread over shards: every prompt or image in exactly one, each
/// shard's manifest, a rerun that skips what is written, and results that do not depend on the split.
@Suite(.serialized) struct ShardedBatchTests {
  static func promptFile(_ lines: [String]) throws -> String {
    let url = try temporaryDirectory("prompts").appendingPathComponent("prompts.txt")
    try Data(lines.joined(separator: "\n").utf8).write(to: url)
    return url.path
  }

  @Test func aPromptFileGivesEachLineItsSeed() throws {
    let path = try Self.promptFile(["# a comment", "a red bicycle", "", "a blue boat\t77", "  a green tree  \r"])
    let file = try PromptFile(path: path, baseSeed: 10)
    #expect(file.prompts == [.init(line: 2, text: "a red bicycle", seed: 10), .init(line: 4, text: "a blue boat", seed: 77),
                             .init(line: 5, text: "a green tree", seed: 12)])
    for (lines, words) in [(["a\tb"], "line 1: the seed after the tab"), (["# only"], "holds no prompt"), (["x\t1\t2"], "at most one tab")] {
      #expect { _ = try PromptFile(path: try Self.promptFile(lines), baseSeed: 0) } throws: { "\($0)".contains(words) }
    }
  }

  @Test func threeShardsGenerateEveryPromptOnceAndARerunSkipsThem() throws {
    var configuration = TextToImagePipeline.Configuration(model: try TinyStableDiffusion.singleFile())
    (configuration.vocabulary, configuration.boost, configuration.keepsModelsLoaded) = (TinyStableDiffusion.vocabulary, .none, true)
    let pipeline = try TextToImagePipeline(configuration)
    let file = try PromptFile(path: try Self.promptFile((0..<7).map { "prompt number \($0)" + ($0 == 3 ? "\t5" : "") }), baseSeed: 100)
    var settings = TextToImageSettings(prompt: "", sampler: .ddim, steps: 2, guidance: 1, seed: 0)
    (settings.width, settings.height) = (32, 32)
    let folder = try temporaryDirectory("sharded-generate").path
    var made: [String: Int] = [:]
    for index in 0..<3 {
      try pipeline.generateFiles(file, settings: settings, folder: folder, shard: Shard(index: index, count: 3)) { outcome in
        if case .success(let done) = outcome.result, let output = done.output { made[output, default: 0] += 1 }
      }
    }
    let pngs = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
    #expect(pngs.count == 7 && made.count == 7 && made.values.allSatisfy { $0 == 1 })
    #expect(pngs.contains("000004-5-prompt-number-3.png") && pngs.contains("000001-100-prompt-number-0.png") && pngs.contains("000007-106-prompt-number-6.png"))
    let report = try Manifest.check(folder: folder)
    #expect(report.isComplete && report.inputs == 7 && report.shards == 3)
    // The seed and prompt of a line give the image whatever the split: shard 1 of 1 writes the same file.
    let picture = try ImageFile.load((folder as NSString).appendingPathComponent("000004-5-prompt-number-3.png"))
    let alone = try temporaryDirectory("one-prompt").path
    try pipeline.generateFiles(try PromptFile(path: try Self.promptFile(["", "", "", "prompt number 3\t5"]), baseSeed: 0), settings: settings, folder: alone) { _ in }
    #expect(try ImageFile.load((alone as NSString).appendingPathComponent("000004-5-prompt-number-3.png")).color.equal(picture.color))
    // A rerun of a shard finds its images written and skips every one.
    var skipped = 0
    try pipeline.generateFiles(file, settings: settings, folder: folder, shard: Shard(index: 1, count: 3)) { outcome in
      if case .success(let done) = outcome.result, done.skipped { skipped += 1 }
    }
    #expect(skipped == 2)
    // Without a shard, an existing output is refused unless overwriting.
    #expect(throws: PipelineError.self) { try pipeline.generateFiles(file, settings: settings, folder: folder) { _ in } }
  }

  @Test func evaluationShardsScoreTheirImagesAsAWholeRunDoes() throws {
    var configuration = EvaluationPipeline.Configuration()
    (configuration.maxShortSide, configuration.maxSide) = (64, 48)
    let upsampling = try UpsamplingPipeline()
    let photos = ["chelsea.png", "coffee.png", "astronaut.png"].map { Shared.photo($0) }
    let whole = try EvaluationPipeline(upsampling, configuration: configuration).run(photos) { _ in }
    let folder = try temporaryDirectory("sharded-eval").path
    var parts: [String: Double] = [:]
    for index in 0..<2 {
      var c = configuration
      (c.shard, c.csv) = (try Shard(index: index, count: 2), folder + "/scores.csv")
      let report = try EvaluationPipeline(upsampling, configuration: c).run(photos) { _ in }
      for score in report.scores { parts["\(score.image) \(score.method)"] = score.psnr }
    }
    #expect(parts.count == whole.scores.count && whole.scores.allSatisfy { parts["\($0.image) \($0.method)"] == $0.psnr })
    #expect(try Manifest.check(folder: folder).isComplete)
    #expect(FileManager.default.fileExists(atPath: folder + "/scores-1-of-2.csv"))
  }
}
