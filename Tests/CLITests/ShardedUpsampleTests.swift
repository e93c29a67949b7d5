import Foundation
import Imaging
import Testing
import TestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// `upsample --shard I/N`: three processes split a folder, each output once, a manifest each; a
/// shard killed mid-run and run again finishes only the rest.
@Suite(.serialized) struct ShardedUpsampleTests {
  static func folder(_ dir: URL, good: Int) throws -> URL {
    let folder = dir.appendingPathComponent("in")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let photo = try ImageFile.load(Shared.photo("chelsea.png"))
    for i in 0..<good {
      let crop = try photo.color.narrow(dim: 1, start: i * 10, length: 200).narrow(dim: 2, start: i * 12, length: 300).contiguous()
      try ImageFile.save(Picture(color: crop), to: folder.appendingPathComponent("photo\(i).png").path)
    }
    try Data().write(to: folder.appendingPathComponent("empty.png"))
    try Data("not an image".utf8).write(to: folder.appendingPathComponent("text.png"))
    return folder
  }

  @Test func threeShardsWriteEveryOutputOnceAndAKilledShardResumes() throws {
    let dir = try temporaryDirectory("shards")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = try Self.folder(dir, good: 7)
    let out = dir.appendingPathComponent("out").path
    // Shard 1 first, killed once its first output is written.
    let process = Process()
    process.executableURL = CommandRunner.executable
    process.arguments = ["upsample", input.path, "-o", out, "--shard", "1/3", "--threads", "1"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(120)
    var first: String?
    while Date() < deadline, process.isRunning, first == nil {
      first = try? FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasSuffix(".png") }
      usleep(20_000)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let written = try #require(first, "shard 1 wrote nothing before it ended")
    let before = try FileManager.default.attributesOfItem(atPath: out + "/" + written)[.modificationDate] as? Date
    // The three shards, the killed one again: the bad inputs fail (exit 1), the rest is written.
    var outputs: [String] = []
    for shard in 0..<3 {
      let run = try CommandRunner.fmboost(["upsample", input.path, "-o", out, "--shard", "\(shard)/3"])
      #expect(run.status == 0 || (run.status == 1 && run.error.contains("inputs failed")), "\(shard): \(run.error)")
      outputs += run.output.split(separator: "\n").filter { $0.contains("upsampled") }.map(String.init)
      if shard == 1 { #expect(run.output.contains("skipped \(input.path)/\(written)"), "\(run.output)") }
      if shard == 2 { #expect(run.output.contains("all shards: 7 of 9 inputs done, 2 failed; 0 of 3 shards not started"), "\(run.output)") }
    }
    let pngs = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".png") }.sorted()
    #expect(pngs == (0..<7).map { "photo\($0).png" })
    #expect(outputs.count == 6, "one image was done before the kill: \(outputs)")
    #expect(try FileManager.default.attributesOfItem(atPath: out + "/" + written)[.modificationDate] as? Date == before)
    let manifests = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".jsonl") }.sorted()
    #expect(manifests == ["manifest-0-of-3.jsonl", "manifest-1-of-3.jsonl", "manifest-2-of-3.jsonl"])
    let resumed = try String(contentsOfFile: out + "/manifest-1-of-3.jsonl", encoding: .utf8)
    #expect(resumed.contains("\"status\":\"skipped\"") && resumed.contains("\"status\":\"ok\""))
    #expect(try ImageFile.load(out + "/photo0.png").width == 600)
  }
}
