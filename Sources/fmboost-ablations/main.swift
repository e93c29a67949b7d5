import ArgumentParser
import Foundation
import Studies

/// `make ablations`: the study docs/ablations.md reports (Studies/AblationPlan.swift), resumable.
struct Ablations: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fmboost-ablations",
    abstract: "Train and score the paper's design choices (docs/ablations.md); a rerun continues where the last one stopped.")

  @Flag(help: "A few minutes' run of every part, with tiny networks (its numbers mean nothing).")
  var quick = false

  @Option(help: "Where the shards, runs, exported models and result files go.")
  var folder = "ablations"

  @Option(help: "Where results.md and the charts go (default: docs/ablations, or <folder>/report with --quick).")
  var report: String?

  @Flag(help: "Only write the report, from the result files there are (while a run goes on, or after one was stopped).")
  var reportOnly = false

  func run() throws {
    let study = AblationStudy(plan: quick ? .quick : .standard, folder: URL(fileURLWithPath: folder))
    // Unbuffered, so that a log file follows the run.
    if !reportOnly { try study.run(log: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }) }
    let destination = URL(fileURLWithPath: report ?? (quick ? folder + "/report" : "docs/ablations"))
    try AblationReport(plan: study.plan, results: try AblationResult.load(from: study.folder), trainingLosses: try study.trainingLosses())
      .write(to: destination)
    print("wrote \(destination.path)/results.md and its charts")
  }
}

Ablations.main()
