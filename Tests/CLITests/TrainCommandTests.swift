import Checkpoint
import Foundation
import TestSupport
import Training
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `kill -9` at a random moment of a training run, then `--resume-checkpoint last`.
@Suite struct TrainCommandTests {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let tiny = [
    "model.params.fm_cfg.params.net_cfg.params.channel_mult=[1, 2]", "model.params.fm_cfg.params.net_cfg.params.attention_resolutions=[2]",
    "model.params.low_res_size=16", "model.params.high_res_size=32", "data.params.batch_size=2", "train.val_check_interval=100000",
    "train.log_every_n_steps=1", "train.checkpoint_every_n_train_steps=2",
  ]

  @Test func killedRunResumesWithAtMostOneIntervalLost() throws {
    let logs = try temporaryDirectory("train-kill")
    defer { try? FileManager.default.removeItem(at: logs) }
    let process = Process()
    process.executableURL = CommandRunner.executable
    process.arguments = ["train", "--config", Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path, "--data", Shared.photo(""),
                         "--name", "kill", "--logs", logs.path, "--max-steps", "100000", "--threads", "1"] + Self.tiny
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Wait for the first checkpoint, then kill at a random moment.
    let deadline = Date().addingTimeInterval(120)
    var runFolder: URL?
    while Date() < deadline {
      if let run = try? FileManager.default.contentsOfDirectory(atPath: logs.path).first,
        FileManager.default.fileExists(atPath: logs.appendingPathComponent(run + "/checkpoints/last.safetensors").path)
      {
        runFolder = logs.appendingPathComponent(run)
        break
      }
      usleep(100_000)
    }
    let run = try #require(runFolder, "no checkpoint appeared")
    usleep(UInt32.random(in: 300_000...1_500_000))
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let loggedSteps = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
      .split(separator: "\n").dropFirst().compactMap { Int($0.split(separator: ",").first ?? "") }
    let reached = try #require(loggedSteps.max())
    let saved = try TrainingCheckpoint.load(run.appendingPathComponent("checkpoints/last.safetensors").path)
    #expect(reached - saved.step <= 2, "killed at step \(reached), last checkpoint at \(saved.step)")
    // No stray temporary file is mistaken for a checkpoint; resuming goes on from the saved step.
    let result = try CommandRunner.fmboost(["train", "--config", Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path, "--data", Shared.photo(""),
                                            "--name", "kill", "--logs", logs.path, "--resume-checkpoint", "last",
                                            "--max-steps", String(saved.step + 3)] + Self.tiny)
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("resumed from") && result.output.contains("finished at step \(saved.step + 3)"))
    #expect(try TrainingCheckpoint.load(run.appendingPathComponent("checkpoints/last.safetensors").path).step == saved.step + 3)
  }

  /// The run folder's config.yaml records every option and override a run was started with:
  /// training again from it alone gives the same loss curve.
  @Test func theSavedConfigReproducesARunStartedWithOverrides() throws {
    let logs = try temporaryDirectory("train-reproduce")
    defer { try? FileManager.default.removeItem(at: logs) }
    let first = try CommandRunner.fmboost(["train", "--config", Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path, "--data", Shared.photo(""),
                                           "--name", "first", "--logs", logs.path, "--max-steps", "4", "--seed", "11", "--threads", "1"]
                                          + Self.tiny + ["model.params.lr=0.0003"])
    #expect(first.status == 0, "\(first.error)")
    let run = try #require(try FileManager.default.contentsOfDirectory(atPath: logs.path).first { $0.hasPrefix("first") })
    let saved = logs.appendingPathComponent(run + "/config.yaml")
    let recorded = try TrainingConfig(ConfigTree(path: saved.path))
    #expect(recorded.maxSteps == 4 && recorded.seed == 11 && recorded.lr == 0.0003 && recorded.dataFolder == Shared.photo(""))
    let second = try CommandRunner.fmboost(["train", "--config", saved.path, "--name", "second", "--logs", logs.path, "--threads", "1"])
    #expect(second.status == 0, "\(second.error)")
    let again = try #require(try FileManager.default.contentsOfDirectory(atPath: logs.path).first { $0.hasPrefix("second") })
    func losses(_ run: String) throws -> [String] {
      let lines = try String(contentsOf: logs.appendingPathComponent(run + "/metrics.csv"), encoding: .utf8).split(separator: "\n")
      return lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }.filter { !$0[1].isEmpty }.map { "\($0[0]) \($0[1])" }
    }
    #expect(try losses(run).count == 4)
    #expect(try losses(run) == losses(again))
  }

  @Test func unknownOverrideIsRejectedWithTheValidKeys() throws {
    let result = try CommandRunner.fmboost(["train", "--config", Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path,
                                            "--data", Shared.photo(""), "train.max_stepz=3"])
    #expect(result.status != 0)
    #expect(result.error.contains("unknown key 'train.max_stepz'") && result.error.contains("max_steps"))
  }

  @Test func resumingFromACheckpointOutsideARunFolderWritesANewOne() throws {
    let dir = try temporaryDirectory("train-resume-outside")
    defer { try? FileManager.default.removeItem(at: dir) }
    let config = Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path
    let logs = dir.appendingPathComponent("logs").path
    let first = try CommandRunner.fmboost(["train", "--config", config, "--data", Shared.photo(""), "--name", "a", "--logs", logs,
                                           "--max-steps", "2"] + Self.tiny)
    #expect(first.status == 0, "\(first.error)")
    let run = try #require(try FileManager.default.contentsOfDirectory(atPath: logs).first)
    // A user's folder: their own config.yaml two levels above a copied checkpoint.
    let mine = dir.appendingPathComponent("mine")
    try FileManager.default.createDirectory(at: mine.appendingPathComponent("saved"), withIntermediateDirectories: true)
    try Data("my notes\n".utf8).write(to: mine.appendingPathComponent("config.yaml"))
    let copy = mine.appendingPathComponent("saved/model.safetensors").path
    try FileManager.default.copyItem(atPath: "\(logs)/\(run)/checkpoints/last.safetensors", toPath: copy)
    let resumed = try CommandRunner.fmboost(["train", "--config", config, "--data", Shared.photo(""), "--name", "b", "--logs", logs,
                                             "--resume-checkpoint", copy, "--max-steps", "3"] + Self.tiny)
    #expect(resumed.status == 0, "\(resumed.error)")
    #expect(resumed.output.contains("is not inside a run folder"))
    #expect(try String(contentsOf: mine.appendingPathComponent("config.yaml"), encoding: .utf8) == "my notes\n")
    #expect(!FileManager.default.fileExists(atPath: mine.appendingPathComponent("metrics.csv").path))
    let runs = try FileManager.default.contentsOfDirectory(atPath: logs).sorted()
    #expect(runs.count == 2 && runs.contains { $0.hasPrefix("b_") })
    // A checkpoint inside its run folder resumes in that folder.
    let inside = try CommandRunner.fmboost(["train", "--config", config, "--data", Shared.photo(""), "--name", "a", "--logs", logs,
                                            "--resume-checkpoint", "\(logs)/\(run)/checkpoints/last.safetensors", "--max-steps", "3"] + Self.tiny)
    #expect(inside.status == 0 && inside.output.contains("run folder \(logs)/\(run)"), "\(inside.output)")
  }

  @Test func aCheckpointThatCannotBeWrittenStopsTheRun() throws {
    let dir = try temporaryDirectory("train-unwritable")
    defer { try? FileManager.default.removeItem(at: dir) }
    let config = Self.repo.appendingPathComponent("configs/cpu-tiny.yaml").path
    // The checkpoint folder's place is taken by a file: refused before the first step.
    let blocked = dir.appendingPathComponent("blocked")
    try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: true)
    try Data().write(to: blocked.appendingPathComponent("checkpoints"))
    setenv("FMBOOST_RUN_DIRECTORY", blocked.path, 1)
    defer { unsetenv("FMBOOST_RUN_DIRECTORY") }
    let early = try CommandRunner.fmboost(["train", "--config", config, "--data", Shared.photo(""), "--max-steps", "2"] + Self.tiny)
    #expect(early.status != 0 && early.error.contains("checkpoints") && !early.output.contains("step 1/"), "\(early.output)\n\(early.error)")
    // A save that fails mid-run (the step-2 checkpoint's name is taken by a folder) stops it with the path.
    let run = dir.appendingPathComponent("run")
    try FileManager.default.createDirectory(at: run.appendingPathComponent("checkpoints/step000002.safetensors"), withIntermediateDirectories: true)
    setenv("FMBOOST_RUN_DIRECTORY", run.path, 1)
    let late = try CommandRunner.fmboost(["train", "--config", config, "--data", Shared.photo(""), "--max-steps", "6"] + Self.tiny)
    #expect(late.status != 0 && late.error.contains("step000002.safetensors: could not write the checkpoint at step 2"), "\(late.error)")
    #expect(!late.output.contains("step 3/"))
  }
}
