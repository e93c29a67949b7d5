import Foundation
import TestSupport
import Testing
import Training

/// Run folders: which checkpoint `--resume-checkpoint last` takes, and which run a checkpoint is in.
@Suite struct RunFolderTests {
  @Test func resumeTakesTheNewestRunsMoreRecentCheckpoint() throws {
    let logs = try temporaryDirectory("runs")
    let fm = FileManager.default
    func touch(_ run: String, _ file: String, age: TimeInterval) throws -> String {
      let folder = logs.appendingPathComponent("\(run)/checkpoints")
      try fm.createDirectory(at: folder, withIntermediateDirectories: true)
      let path = folder.appendingPathComponent(file).path
      fm.createFile(atPath: path, contents: Data([1]))
      try fm.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: path)
      return path
    }
    _ = try touch("a_2026-01-01-00-00-00", "last.safetensors", age: 10)
    let newestLast = try touch("a_2026-01-02-00-00-00", "last.safetensors", age: 100)
    _ = try touch("b_2026-01-03-00-00-00", "last.safetensors", age: 1)
    #expect(try RunFolder.newestCheckpoint(logs: logs.path, name: "a") == newestLast)
    let interrupted = try touch("a_2026-01-02-00-00-00", "interrupted.safetensors", age: 50)
    #expect(try RunFolder.newestCheckpoint(logs: logs.path, name: "a") == interrupted)
    #expect(throws: ConfigError.self) { try RunFolder.newestCheckpoint(logs: logs.path, name: "c") }

    // A checkpoint belongs to a run only inside <run>/checkpoints/ of a folder with a run's files.
    #expect(RunFolder.containing(checkpoint: newestLast) == nil)
    let run = logs.appendingPathComponent("a_2026-01-02-00-00-00")
    for file in ["config.yaml", "metrics.csv"] { fm.createFile(atPath: run.appendingPathComponent(file).path, contents: Data()) }
    #expect(RunFolder.containing(checkpoint: newestLast)?.path == run.standardizedFileURL.path)
    #expect(RunFolder.new(logs: "logs", name: "x").hasPrefix("logs/x_"))
  }
}
