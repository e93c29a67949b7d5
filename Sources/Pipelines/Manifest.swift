import FileSupport
import Foundation

/// A shard's record of its work, `manifest-I-of-N.jsonl` in the output folder: a header line naming
/// the inputs the shard was given, then one line per input as it finishes (input, output, seed,
/// seconds, status: ok, skipped — its output already there — or failed, with the error). A rerun
/// appends; the last line of an input counts. `check` reads every shard's manifest of a folder.
public final class Manifest {
  public let url: URL
  private let fd: Int32

  struct Header: Codable {
    let shard: Int
    let shards: Int
    let inputs: [String]
  }

  struct Line: Codable {
    let input: String
    let output: String?
    let seed: UInt64?
    let seconds: Double
    let status: String
    let error: String?
  }

  public static func fileName(_ shard: Shard) -> String { "manifest-\(shard.index)-of-\(shard.count).jsonl" }

  /// Opens (appending) the manifest of `shard` in `folder` and records its inputs.
  public init(folder: String, shard: Shard, inputs: [InputFile]) throws {
    url = URL(fileURLWithPath: folder).appendingPathComponent(Self.fileName(shard))
    fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileError(file: url.path, "cannot open the manifest: \(String(cString: strerror(errno)))") }
    try append(Header(shard: shard.index, shards: shard.count, inputs: inputs.map(\.path)))
  }

  deinit { close(fd) }

  func record(_ outcome: FileBatch.Outcome, seed: UInt64?) throws {
    switch outcome.result {
    case .success(let done):
      try append(Line(input: outcome.input.path, output: done.output, seed: seed, seconds: outcome.seconds,
                      status: done.skipped ? "skipped" : "ok", error: nil))
    case .failure(let error):
      try append(Line(input: outcome.input.path, output: nil, seed: seed, seconds: outcome.seconds, status: "failed", error: "\(error)"))
    }
  }

  /// One line in one write, flushed: a manifest cut off by a kill loses at most the line being written.
  private func append(_ value: some Encodable) throws {
    let line = try JSONEncoder().encode(value) + Data("\n".utf8)
    let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == line.count, fsync(fd) == 0 else { throw FileError(file: url.path, "cannot write the manifest: \(String(cString: strerror(errno)))") }
  }

  /// What the manifests of a folder say about the whole batch.
  public struct Report: Sendable {
    public let shards: Int
    public let inputs: Int
    public let done: Int
    /// Inputs whose last line says failed, with the error.
    public let failed: [String: String]
    /// Inputs no line speaks of yet.
    public let missing: [String]
    /// Shards with no manifest.
    public let absentShards: [Int]
    public var isComplete: Bool { failed.isEmpty && missing.isEmpty && absentShards.isEmpty }
    public var summary: String { "all shards: \(done) of \(inputs) inputs done, \(failed.count) failed; \(absentShards.count) of \(shards) shards not started" }
  }

  /// Reads every `manifest-*-of-N.jsonl` of `folder`: all N present, no input in two shards,
  /// every input's last line ok or skipped.
  public static func check(folder: String) throws -> Report {
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("manifest-") && $0.hasSuffix(".jsonl") }
    guard !names.isEmpty else { throw FileError(file: folder, "holds no manifest-I-of-N.jsonl") }
    var count: Int?
    var assigned: [String: Int] = [:], last: [String: Line] = [:], present = Set<Int>()
    for name in names.sorted() {
      let path = (folder as NSString).appendingPathComponent(name)
      var header: Header?
      for text in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
        let data = Data(text.utf8)
        if let h = try? JSONDecoder().decode(Header.self, from: data) {
          guard count == nil || count == h.shards else { throw FileError(file: path, "is a shard of \(h.shards), others of \(count!)") }
          count = h.shards
          for input in h.inputs {
            if let other = assigned[input], other != h.shard { throw FileError(file: path, "\(input) is in shards \(other) and \(h.shard)") }
            assigned[input] = h.shard
          }
          header = h
          present.insert(h.shard)
        } else if let line = try? JSONDecoder().decode(Line.self, from: data) {
          last[line.input] = line
        }  // else a line cut off by a kill: its input counts as not done
      }
      guard header != nil else { throw FileError(file: path, "has no header line") }
    }
    let inputs = assigned.keys.sorted()
    let done = inputs.filter { ["ok", "skipped"].contains(last[$0]?.status) }.count
    let failed = Dictionary(uniqueKeysWithValues: inputs.compactMap { i in last[i].flatMap { $0.status == "failed" ? (i, $0.error ?? "") : nil } })
    return Report(shards: count ?? 0, inputs: inputs.count, done: done, failed: failed, missing: inputs.filter { last[$0] == nil },
                  absentShards: (0..<(count ?? 0)).filter { !present.contains($0) })
  }
}
