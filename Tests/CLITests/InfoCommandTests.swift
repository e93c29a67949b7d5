import Foundation
import TestSupport
import Testing
import Torch

@Suite struct InfoCommandTests {
  /// The command-line tool runs with kernels at its CPU's level, whatever OpenBLAS detected.
  @Test func theToolRunsTheCPUsKernels() throws {
    let result = try CommandRunner.fmboost(["info"])
    #expect(result.status == 0, "\(result.error)")
    let line = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("BLAS") })
    guard BLASCore.loaded != nil else {
      #expect(line.contains("not OpenBLAS"))
      return
    }
    let kernels = try #require(line.firstMatch(of: /OpenBLAS, (\w+) kernels/)?.1, "\(line)")
    let best = BLASCore.best(cpuFlags: BLASCore.cpuFlags).map(BLASCore.level) ?? 0
    #expect(BLASCore.level(String(kernels)) >= best, "\(line)")
  }
}
