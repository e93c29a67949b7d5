import Checkpoint
import Foundation
import ZIPFoundation

/// A seeded mutation fuzzer for the checkpoint readers. Seeds are real checkpoints; each input is a
/// seed with its pickle, a storage or its raw bytes mutated (zip entries are re-packed with valid
/// CRCs so the pickle machine, not the CRC check, sees the damage). Loading must either succeed or
/// throw `CheckpointError`; anything else is a finding.
public final class CheckpointFuzzer {
  public struct Seed {
    let name: String
    let raw: Data
    /// The zip entries, for zip seeds.
    let entries: [(String, Data)]?
  }

  public struct Finding: CustomStringConvertible {
    public let input: Data
    public let error: String
    public var description: String { error }
  }

  private var state: UInt64
  private let seeds: [Seed]
  private let scratch: URL
  public private(set) var executions = 0
  public private(set) var accepted = 0
  public private(set) var rejected = 0

  /// `scratch` is where each input is written before it is loaded (a crash leaves it there).
  public init(seedFiles: [String], seed: UInt64, scratch: URL) throws {
    state = seed &+ 0x9E37_79B9_7F4A_7C15
    self.scratch = scratch
    seeds = try seedFiles.map { path in
      let raw = try Data(contentsOf: URL(fileURLWithPath: path))
      var entries: [(String, Data)]?
      if raw.starts(with: [0x50, 0x4B]) {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        entries = try archive.map { entry in
          var data = Data()
          _ = try archive.extract(entry) { data.append($0) }
          return (entry.path, data)
        }
      }
      return Seed(name: path, raw: raw, entries: entries)
    }
  }

  private func next() -> UInt64 {  // SplitMix64
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  private func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

  /// A few random edits: bit flips, interesting bytes, inserts, deletes, duplicated runs, truncation.
  func mutate(_ input: Data) -> Data {
    var bytes = [UInt8](input)
    for _ in 0...below(4) {
      if bytes.isEmpty { bytes = [UInt8(truncatingIfNeeded: next())]; continue }
      let at = below(bytes.count)
      switch below(7) {
      case 0: bytes[at] ^= UInt8(1 << below(8))
      case 1: bytes[at] = [0x00, 0xFF, 0x7F, 0x80, 0x2E, 0x28, 0x71, 0x8A][below(8)]
      case 2: bytes.insert(contentsOf: (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
      case 3: bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(16)))
      case 4:
        let length = min(bytes.count - at, 1 + below(32))
        let run = Array(bytes[at..<(at + length)])
        bytes.insert(contentsOf: run, at: below(bytes.count))
      case 5: bytes.removeSubrange(at...)
      default:
        // Overwrite four bytes with a little-endian integer near a boundary.
        let v = [UInt32.max, 0x7FFF_FFFF, 0x8000_0000, 0, 1, UInt32(bytes.count)][below(6)]
        for i in 0..<4 where at + i < bytes.count { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
      }
    }
    return Data(bytes)
  }

  func makeInput() throws -> Data {
    let seed = seeds[below(seeds.count)]
    guard let entries = seed.entries, below(8) != 0 else { return mutate(seed.raw) }
    // Mutate the pickle most of the time, sometimes a storage, and re-pack.
    let pickleIndex = entries.firstIndex { $0.0.hasSuffix("data.pkl") } ?? 0
    let target = below(4) == 0 ? below(entries.count) : pickleIndex
    let archive = try Archive(data: Data(), accessMode: .create)
    for (i, (path, data)) in entries.enumerated() {
      let content = i == target ? mutate(data) : data
      try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(content.count), compressionMethod: .none) { p, n in
        content.subdata(in: Int(p)..<(Int(p) + n))
      }
    }
    return archive.data ?? Data()
  }

  /// Runs until `iterations` inputs or `deadline`, whichever comes first.
  public func run(iterations: Int = .max, until deadline: Date = .distantFuture, onFinding: (Finding) -> Void) throws {
    let file = scratch.appendingPathComponent("current.ckpt")
    while executions < iterations && Date() < deadline {
      let input = try makeInput()
      try input.write(to: file)
      executions += 1
      do {
        let loaded = try TensorFile(path: file.path)
        _ = loaded.descriptors()
        _ = try? loaded.stateDict()
        accepted += 1
      } catch is CheckpointError {
        rejected += 1
      } catch {
        onFinding(Finding(input: input, error: "\(type(of: error)): \(error)"))
      }
    }
  }
}
