import Foundation
import Imaging
import TestSupport
import Testing
import Torch

/// `fmboost fid A B`: the output lines, the cache, and FID growing with a visible degradation.
@Suite struct FIDCommandTests {
  @Test func printsFIDAndKIDAndReusesItsCache() throws {
    let dir = try temporaryDirectory("fid-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let photo = try ImageFile.read(Shared.photo("coffee.png"))
    let (a, b, c) = (dir.appendingPathComponent("a"), dir.appendingPathComponent("b"), dir.appendingPathComponent("c"))
    for folder in [a, b, c] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    let g = try Generator(seed: 3)
    for i in 0..<12 {
      let y = try Tensor.randint(0, photo.size(1) - 96, [1], generator: g).itemInt(), x = try Tensor.randint(0, photo.size(2) - 96, [1], generator: g).itemInt()
      let crop = try photo.narrow(dim: 1, start: y, length: 96).narrow(dim: 2, start: x, length: 96)
      try ImageFile.write(crop, to: a.appendingPathComponent("\(i).png").path)
      try ImageFile.write(crop, to: b.appendingPathComponent("\(i).png").path)
      let blurred = try crop.unsqueeze(dim: 0).interpolate(size: (24, 24), mode: .bilinear).interpolate(size: (96, 96), mode: .bilinear)
      try ImageFile.write(blurred, to: c.appendingPathComponent("\(i).png").path)
    }
    let cache = dir.appendingPathComponent("cache").path
    setenv("XDG_CACHE_HOME", cache, 1)
    defer { unsetenv("XDG_CACHE_HOME") }
    func fid(_ x: URL, _ y: URL) throws -> (Double, String) {
      let run = try CommandRunner.fmboost(["fid", x.path, y.path])
      #expect(run.status == 0, "\(run.error)")
      let lines = run.output.split(separator: "\n")
      #expect(lines.count == 2 && lines[1].hasPrefix("KID ") && lines[1].contains(" ± "), "\(run.output)")
      return (Double(lines[0].dropFirst(4)) ?? .nan, run.error)
    }
    let (same, _) = try fid(a, b)
    let (blurred, _) = try fid(a, c)
    #expect(abs(same) < 1e-3, "FID of identical folders: \(same)")
    #expect(blurred > 10, "FID against a blurred copy: \(blurred)")
    // Second run: the features come from the cache (one file per folder).
    #expect(try FileManager.default.contentsOfDirectory(atPath: cache + "/fmboost/fid").count == 3)
    let (again, _) = try fid(a, c)
    #expect(abs(again - blurred) < 1e-9)
    let missing = try CommandRunner.fmboost(["fid", a.path, dir.appendingPathComponent("none").path])
    #expect(missing.status != 0 && missing.error.contains("none: not a folder"))
  }
}
