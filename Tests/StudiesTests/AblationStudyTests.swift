import Foundation
import Studies
import Testing
import TestSupport

@Suite struct EstimateTests {
  /// Student's t quantiles and the interval of a known sample.
  @Test func intervalsUseStudentsT() {
    for (df, t) in [(3, 3.182), (5, 2.571), (12, 2.179), (30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980)] {
      let values = (0...df).map(Double.init)  // n = df + 1
      let estimate = Estimate(values)
      let sd = (values.map { ($0 - estimate.mean) * ($0 - estimate.mean) }.reduce(0, +) / Double(df)).squareRoot()
      #expect(abs(estimate.halfWidth / (sd / Double(df + 1).squareRoot()) - t) < 0.001 * t, "df \(df)")
    }
    #expect(Estimate([2, 4]).mean == 3 && abs(Estimate([2, 4]).halfWidth - 12.706) < 1e-3)
    #expect(Estimate([5]).halfWidth.isNaN)
  }
}

@Suite(.serialized) struct AblationStudyTests {
  /// A tiny plan end to end: two variants trained to two lengths, scored on clean and JPEG inputs;
  /// a rerun recomputes nothing; the report's paired differences are those of the result files.
  @Test func aTinyStudyRunsResumesAndReports() throws {
    let folder = try temporaryDirectory("ablations")
    defer { try? FileManager.default.removeItem(at: folder) }
    // Photos: a train/validation split of the test photos, 3 held out.
    let photos = folder.appendingPathComponent("photos")
    for split in ["train", "validation"] { try FileManager.default.createDirectory(at: photos.appendingPathComponent(split), withIntermediateDirectories: true) }
    let photoFolder = (Shared.photo("astronaut.png") as NSString).deletingLastPathComponent
    let files = try FileManager.default.contentsOfDirectory(atPath: photoFolder).filter { $0.hasSuffix(".png") }.sorted()
    for (i, name) in files.enumerated() {
      let split = i < 3 ? "validation" : "train"
      try FileManager.default.copyItem(atPath: photoFolder + "/" + name, toPath: photos.appendingPathComponent("\(split)/\(name)").path)
    }
    var plan = AblationPlan.quick
    plan.spaces = [.pixelUnshuffle8]
    plan.conditions = [.clean, .jpeg]
    // No patch FID here (the quick run and the FID tests cover it): the Inception network takes most of the time.
    (plan.trainingImages, plan.heldOutImages, plan.inception) = (photos.path, photos.appendingPathComponent("validation").path, nil)
    let study = AblationStudy(plan: plan, folder: folder.appendingPathComponent("study"))
    try study.run(log: { print($0) })
    let results = try AblationResult.load(from: study.folder)
    #expect(results.count == 2 * 2 * 2)  // variants × lengths × conditions
    #expect(Set(results.map(\.length)) == [4, 8] && Set(results.map(\.variant)) == ["paper", "noise-start"])
    // JPEG inputs score below clean ones for bicubic itself.
    let bicubic = { (condition: String) in
      results.first { $0.variant == "paper" && $0.length == 8 && $0.condition == condition }!.rows.filter { $0.method == "bicubic" && $0.image != "mean" }
    }
    #expect(bicubic("clean").count == 3 && zip(bicubic("clean"), bicubic("jpeg-40")).allSatisfy { $0.psnrY > $1.psnrY })
    // A rerun does nothing.
    var again: [String] = []
    try study.run(log: { again.append($0) })
    #expect(again.isEmpty, "\(again)")
    // A plan that trains otherwise is refused where runs of the old one are, naming what to delete.
    var changed = plan
    changed.batchSize = 1
    #expect { try AblationStudy(plan: changed, folder: study.folder).run(log: { _ in }) } throws: {
      "\($0)".contains("was trained with another configuration") && "\($0)".contains("results/pixel-unshuffle-8-paper-seed1-*")
    }
    // The report's Δ is the mean paired difference of the files' per-photo Y-PSNR.
    // The training loss of a run: the mean of the batch losses logged over its last third (steps 6 to 8 of 8).
    let losses = try study.trainingLosses()
    let csv = try String(contentsOf: study.folder.appendingPathComponent("runs/pixel-unshuffle-8-paper-seed1/metrics.csv"), encoding: .utf8)
    let logged = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
      .filter { Int($0[0])! > 5 && !$0[1].isEmpty }.map { Double($0[1])! }
    let paperLoss = try #require(losses["pixel-unshuffle-8-paper-seed1"])
    #expect(logged.count == 3 && abs(paperLoss - logged.reduce(0, +) / 3) < 1e-12 && losses.count == 2)
    let report = AblationReport(plan: plan, results: results, trainingLosses: losses)
    #expect(report.markdown.contains(String(format: "| paper | %.4f |", paperLoss)))
    func yPSNR(_ variant: String, steps: Int) -> [Double] {
      results.first { $0.variant == variant && $0.length == 8 && $0.condition == "clean" }!.rows
        .filter { $0.method == "model euler \(steps) step\(steps == 1 ? "" : "s")" && $0.image != "mean" }.sorted { $0.image < $1.image }.map(\.psnrY)
    }
    let reference = report.referenceSteps
    let delta = Estimate(zip(yPSNR("noise-start", steps: reference), yPSNR("paper", steps: reference)).map { $0 - $1 })
    let section = report.markdown.components(separatedBy: "## pixel-unshuffle-8, 8 training steps, clean inputs")[1]
    let row = try #require(section.split(separator: "\n").first { $0.hasPrefix("| noise-start |") })
    #expect(row.contains(delta.text(2)), "\(row) lacks \(delta.text(2)); methods \(Set(results.flatMap { $0.rows.map { "\($0.method) \($0.image)" } }))")
    // The claims table repeats it; its second table is each variant's 1-step minus 2-step Y-PSNR.
    let lines = report.markdown.split(separator: "\n")
    let claim = try #require(lines.first { $0.hasPrefix("| noise-start | pixel-unshuffle-8 | 8 | ") })
    #expect(claim.contains(delta.text(2)), "\(claim)")
    let stepGain = Estimate(zip(yPSNR("paper", steps: 1), yPSNR("paper", steps: 2)).map { $0 - $1 })
    let stepsTable = try #require(lines.firstIndex { $0.contains("minus at 2, clean inputs") })
    let stepsRow = try #require(lines[stepsTable...].first { $0.hasPrefix("| paper | ") })
    #expect(stepsRow.hasSuffix("| \(stepGain.text(2)); FID – → – |"), "\(stepsRow)")  // no Inception in this test
    #expect(report.charts.keys.sorted() == ["inputs-pixel-unshuffle-8.svg", "steps-pixel-unshuffle-8.svg"])
    #expect(report.charts.values.allSatisfy { $0.hasPrefix("<svg") && $0.contains("noise-start") })
  }
}
