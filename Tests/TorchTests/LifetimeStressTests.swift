import TestSupport
import Testing
import Torch

@Suite struct LifetimeStressTests {
  /// 100,000 temporaries created and dropped inside expressions: every handle is freed (the live
  /// count returns to where it was) and resident memory stays flat. Run under `-c release`, where
  /// the optimiser releases objects as early as it may.
  @Test func hundredThousandTemporariesLeaveNothingBehind() throws {
    let x = try Tensor.randn([64], generator: Generator(seed: 0))
    let liveBefore = Tensor.liveCount
    // Warm-up with the measured loop itself, so allocator pools and arenas are populated before
    // the baseline is taken (after an earlier test's large frees, glibc serves small blocks from
    // fresh heap pages for a while); a leak still grows the second pass by ~24 MiB.
    for i in 0..<20_000 { _ = try ((x + Double(i % 3)) * x - x.exp().tanh()).sum().item() }
    let rssBefore = try residentMemory()
    var checksum = 0.0
    for i in 0..<20_000 {
      // Five temporaries per iteration, several passed on straight from another expression.
      checksum += try ((x + Double(i % 3)) * x - x.exp().tanh()).sum().item()
    }
    let rssAfter = try residentMemory()
    #expect(checksum.isFinite)
    #expect(Tensor.liveCount == liveBefore, "handles leaked: \(Tensor.liveCount - liveBefore)")
    let growthMB = Double(rssAfter - rssBefore) / 1_048_576
    print("lifetime stress: 100,000 temporaries, RSS growth \(String(format: "%.2f", growthMB)) MiB")
    #expect(growthMB < 16)
  }
}
