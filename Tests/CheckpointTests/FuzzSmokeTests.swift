import Foundation
import TestSupport
import Testing

/// A few seconds of the checkpoint fuzzer (the long run is `make fuzz`).
@Suite struct FuzzSmokeTests {
  @Test func mutatedCheckpointsOnlyEverFailCleanly() throws {
    let scratch = try temporaryDirectory("fuzz")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let fuzzer = try CheckpointFuzzer(
      seedFiles: [Shared.golden("vae_a_flat.ckpt"), Shared.golden("vae_a_flat_legacy.ckpt"), Shared.golden("lightning_like.ckpt")],
      seed: 2024, scratch: scratch)
    var findings: [String] = []
    try fuzzer.run(iterations: 300, until: Date().addingTimeInterval(8)) { findings.append($0.description) }
    print("fuzz smoke: \(fuzzer.executions) inputs, \(fuzzer.accepted) loaded, \(fuzzer.rejected) rejected cleanly")
    #expect(findings.isEmpty, "\(findings.prefix(5))")
    #expect(fuzzer.executions >= 30)
    #expect(fuzzer.rejected > 0)
  }

  /// The safetensors reader: the fuzzer's own seed (every dtype, a 0-d and an empty tensor, escaped
  /// names, metadata) and a golden file, mutated in the header length, the JSON and the data.
  @Test func mutatedSafeTensorsOnlyEverFailCleanly() throws {
    let scratch = try temporaryDirectory("fuzz-safetensors")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let fuzzer = try CheckpointFuzzer(
      seedFiles: [Shared.golden("schedules.safetensors")], seed: 2025, scratch: scratch, safetensorsSeed: true)
    var findings: [String] = []
    try fuzzer.run(iterations: 3000, until: Date().addingTimeInterval(5)) { findings.append($0.description) }
    print("fuzz smoke (safetensors): \(fuzzer.executions) inputs, \(fuzzer.accepted) read, \(fuzzer.rejected) rejected cleanly")
    #expect(findings.isEmpty, "\(findings.prefix(5))")
    #expect(fuzzer.safetensorsExecutions == fuzzer.executions)
    #expect(fuzzer.executions >= 100)
    // Both verdicts occur: some mutations (data bytes) leave a valid file, most break it.
    #expect(fuzzer.accepted > 0)
    #expect(fuzzer.rejected > 0)
  }
}
