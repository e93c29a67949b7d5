import Checkpoint
import Foundation
import TestSupport
import Testing
import Torch
import Training

#if canImport(Glibc)
  import Glibc
#endif

/// Data-parallel training over libtorch's Gloo process group, on loopback.
@Suite struct DistributedTrainCommandTests {
  static let config = TrainCommandTests.repo.appendingPathComponent("configs/cpu-tiny.yaml").path
  static let small = TrainCommandTests.tiny.filter { !$0.hasPrefix("data.params.batch_size") && !$0.hasPrefix("train.checkpoint") }
    + ["train.checkpoint_every_n_train_steps=5"]

  static func netWeights(_ run: URL) throws -> [String: Tensor] {
    let contents = try TrainingCheckpoint.load(run.appendingPathComponent("checkpoints/last.safetensors").path)
    return contents.tensors.filter { $0.key.hasPrefix("model.net.") }
  }

  static func onlyRun(in logs: URL) throws -> URL {
    let runs = try FileManager.default.contentsOfDirectory(atPath: logs.path)
    try #require(runs.count == 1, "expected one run folder in \(logs.path), found \(runs)")
    return logs.appendingPathComponent(runs[0])
  }

  @Test func twoRanksWithBatchBMatchOneProcessWithBatch2B() throws {
    let logs = try temporaryDirectory("ddp-equivalence")
    defer { try? FileManager.default.removeItem(at: logs) }
    let common = ["train", "--config", Self.config, "--data", Shared.photo(""), "--max-steps", "5"]
    // noising_step 400 stays on: the augmentation noise must follow the sample, not the rank.
    let two = try CommandRunner.fmboost(common + ["--nproc", "2", "--threads", "1", "--name", "two", "--logs", logs.appendingPathComponent("two").path]
      + Self.small + ["data.params.batch_size=2"])
    #expect(two.status == 0, "\(two.output)\n\(two.error)")
    #expect(two.output.contains("global batch size 4 = batch 2 × 2 processes × accumulation 1"))
    let one = try CommandRunner.fmboost(common + ["--threads", "1", "--name", "one", "--logs", logs.appendingPathComponent("one").path]
      + Self.small + ["data.params.batch_size=4"])
    #expect(one.status == 0, "\(one.output)\n\(one.error)")

    let a = try Self.netWeights(try Self.onlyRun(in: logs.appendingPathComponent("two")))
    let b = try Self.netWeights(try Self.onlyRun(in: logs.appendingPathComponent("one")))
    #expect(a.count == b.count && a.count > 10)
    var worst = 0.0
    for (key, value) in a { worst = max(worst, try (value - b[key]!).abs().max().item()) }
    #expect(worst <= 1e-5, "largest weight difference \(worst)")

    // The 5 steps moved the weights far more than that (a test that could not fail would not).
    let three = try CommandRunner.fmboost(common + ["--threads", "1", "--name", "one", "--logs", logs.appendingPathComponent("other").path]
      + Self.small + ["data.params.batch_size=4", "train.seed=7"])
    #expect(three.status == 0)
    let c = try Self.netWeights(try Self.onlyRun(in: logs.appendingPathComponent("other")))
    var moved = 0.0
    for (key, value) in b { moved = max(moved, try (value - c[key]!).abs().max().item()) }
    #expect(moved > 1e-3, "a different seed changed the weights by only \(moved)")
    print("2 ranks × batch 2 vs 1 process × batch 4 after 5 steps: largest weight difference \(worst) (another seed: \(moved))")
  }

  @Test func killingOneRankEndsTheOtherWithAnErrorAndKeepsTheCheckpoint() throws {
    let logs = try temporaryDirectory("ddp-kill")
    defer { try? FileManager.default.removeItem(at: logs) }
    var ranks: [Process] = []
    let errors = Pipe()
    for rank in 0..<2 {
      let process = Process()
      process.executableURL = CommandRunner.executable
      process.arguments = ["train", "--config", Self.config, "--data", Shared.photo(""), "--name", "kill", "--logs", logs.path,
                           "--max-steps", "100000", "--threads", "1"] + Self.small + ["data.params.batch_size=2"]
      var environment = ProcessInfo.processInfo.environment
      environment["RANK"] = String(rank)
      environment["WORLD_SIZE"] = "2"
      environment["MASTER_ADDR"] = "127.0.0.1"
      environment["MASTER_PORT"] = String(29_400 + Int(getpid() % 500))
      process.environment = environment
      process.standardOutput = FileHandle.nullDevice
      process.standardError = rank == 0 ? errors : FileHandle.nullDevice
      try process.run()
      ranks.append(process)
    }
    defer { for p in ranks where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
    // Wait for rank 0's second checkpoint, then kill rank 1.
    let deadline = Date().addingTimeInterval(180)
    var checkpoint: String?
    while Date() < deadline, checkpoint == nil {
      if let run = try? FileManager.default.contentsOfDirectory(atPath: logs.path).first {
        let path = logs.appendingPathComponent(run + "/checkpoints/step000010.safetensors").path
        if FileManager.default.fileExists(atPath: path) { checkpoint = logs.appendingPathComponent(run + "/checkpoints/last.safetensors").path }
      }
      usleep(100_000)
    }
    let last = try #require(checkpoint, "rank 0 wrote no checkpoint in 180 s")
    kill(ranks[1].processIdentifier, SIGKILL)
    let killed = Date()
    while ranks[0].isRunning, Date().timeIntervalSince(killed) < 90 { usleep(50_000) }
    let seconds = Date().timeIntervalSince(killed)
    #expect(!ranks[0].isRunning && seconds < 60, "rank 0 still running \(seconds) s after rank 1 died")
    #expect(ranks[0].terminationStatus != 0)
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let ending = ranks[0].terminationReason == .uncaughtSignal ? "signal \(ranks[0].terminationStatus)" : "exit status \(ranks[0].terminationStatus)"
    #expect(message.contains("another rank"), "rank 0 ended with \(ending) and said: \(message)")
    let contents = try TrainingCheckpoint.load(last)
    #expect(contents.step >= 10 && contents.step % 5 == 0)
    print("rank 0 ended \(String(format: "%.2f", seconds)) s after rank 1 was killed; last checkpoint at step \(contents.step) loads")
  }
}
