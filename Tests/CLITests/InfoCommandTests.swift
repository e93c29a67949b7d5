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

@Suite struct DeviceCommandTests {
  /// `info` lists the devices; a device that is not there is one line and exit code 1, before any work.
  @Test func aDeviceThatIsNotThereIsOneLine() throws {
    let info = try CommandRunner.fmboost(["info"])
    let devices = try #require(info.output.split(separator: "\n").first { $0.hasPrefix("devices") })
    #expect(devices.contains("cpu") && devices.contains(Devices.cudaBuilt ? "in this build" : "not in this build"), "\(devices)")
    let missing = Devices.cudaBuilt ? "cuda:\(Devices.cudaCount)" : "cuda"
    let out = try temporaryDirectory("device").path
    for command in [["upsample", Shared.photo("chelsea.png"), "-o", out], ["eval", Shared.photo("chelsea.png")],
                    ["fid", out, out], ["generate", "a cat", "--model", "x.safetensors", "-o", out]] {
      let result = try CommandRunner.fmboost(command + ["--device", missing])
      let lines = result.error.split(separator: "\n")
      #expect(result.status == 1 && lines.count == 1 && lines[0].contains("--device: device cuda") && lines[0].contains("is not available"),
              "\(command[0]): \(result.error)")
      #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }
    let unknown = try CommandRunner.fmboost(["upsample", Shared.photo("chelsea.png"), "-o", out, "--device", "tpu"])
    #expect(unknown.status == 1 && unknown.error.contains("unknown device 'tpu'"))
  }
}
