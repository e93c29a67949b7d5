import Checkpoint
import Foundation
import Torch
import ZIPFoundation

/// A seeded mutation fuzzer for the checkpoint readers. Seeds are real checkpoints; each input is a
/// seed with its pickle, a storage or its raw bytes mutated (zip entries are re-packed with valid
/// CRCs so the pickle machine, not the CRC check, sees the damage), or, for safetensors seeds, with
/// its 8-byte header length, its JSON header (bytes and tokens) or its data section mutated.
///
/// Every input is opened, converted to a state_dict and every tensor read back (safetensors inputs
/// through `SafeTensorsFile` as well as `TensorFile`). Each step must either succeed or throw
/// `CheckpointError`; any other error, or tensors that disagree with what the file declares, is a
/// finding (a crash stops the process, leaving the input in `scratch/current.ckpt`).
public final class CheckpointFuzzer {
  public struct Seed {
    let name: String
    let raw: Data
    /// The zip entries, for zip seeds.
    let entries: [(String, Data)]?
    /// A safetensors file (its 9th byte opens the JSON header).
    let isSafeTensors: Bool
  }

  public struct Finding: CustomStringConvertible {
    public let input: Data
    public let error: String
    public var description: String { error }
  }

  /// What one input did.
  enum Outcome {
    case accepted
    case rejected
    case finding(String)
  }

  /// A reader returned something inconsistent without throwing.
  struct Unexpected: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  /// The largest tensor whose bytes are copied out to check it (larger ones are views that repeat
  /// their storage; the seeds' tensors are far smaller).
  static let maxTouchedBytes = 64 << 20

  private var state: UInt64
  private let seeds: [Seed]
  private let scratch: URL
  public private(set) var executions = 0
  /// Inputs that were loaded, converted and read completely.
  public private(set) var accepted = 0
  /// Inputs that a reader rejected with `CheckpointError`.
  public private(set) var rejected = 0
  /// How many of `executions` were mutated safetensors files.
  public private(set) var safetensorsExecutions = 0

  /// `scratch` is where each input is written before it is loaded (a crash leaves it there). With
  /// `safetensorsSeed`, a small safetensors file written by `SafeTensors.write` (see
  /// `writeSafeTensorsSeed`) joins the seeds; safetensors files among `seedFiles` are recognised by
  /// their content.
  public init(seedFiles: [String], seed: UInt64, scratch: URL, safetensorsSeed: Bool = false) throws {
    state = seed &+ 0x9E37_79B9_7F4A_7C15
    self.scratch = scratch
    var paths = seedFiles
    if safetensorsSeed {
      let url = scratch.appendingPathComponent("seed.safetensors")
      try CheckpointFuzzer.writeSafeTensorsSeed(to: url)
      paths.append(url.path)
    }
    seeds = try paths.map { path in
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
      let isSafeTensors = entries == nil && raw.count >= 9 && raw[raw.startIndex + 8] == UInt8(ascii: "{")
      return Seed(name: path, raw: raw, entries: entries, isSafeTensors: isSafeTensors)
    }
    guard !seeds.isEmpty else { throw CheckpointError(file: scratch.path, "the fuzzer needs at least one seed") }
  }

  /// Writes a small, valid safetensors file with the project's writer: a tensor of every dtype, a
  /// 0-d tensor, an empty one, a name that needs JSON escapes, and metadata. Reading it back must
  /// give the same tensors, else this throws (a broken seed would make every finding meaningless).
  public static func writeSafeTensorsSeed(to url: URL) throws {
    let base = try Tensor.arange(0, 24).reshape([2, 3, 4])
    var tensors: [(String, Tensor)] = try DType.allCases.map { ("blocks.\($0).weight", try base.to($0)) }
    tensors.append(("scalar", try Tensor(scalar: Float(0.5))))
    tensors.append(("empty", try Tensor.zeros([0, 3])))
    tensors.append(("name \"quoted\" \\ tab\t \u{00FC}n\u{00EF}", try Tensor([Int32(1), -2], shape: [2])))
    let metadata = ["format": "pt", "config": #"{"channels": [1, 2], "name": "seed"}"#]
    try SafeTensors.write(tensors, metadata: metadata, to: url)
    let file = try SafeTensorsFile(path: url.path)
    guard file.metadata == metadata, Set(file.keys) == Set(tensors.map(\.0)) else {
      throw CheckpointError(file: url.path, "the safetensors seed does not read back its names and metadata")
    }
    for (name, t) in tensors {
      let read = try file.tensor(name)
      guard read.dtype == t.dtype, read.shape == t.shape, try read.bytes() == t.bytes() else {
        throw CheckpointError(file: url.path, "the safetensors seed does not read back tensor '\(name)'")
      }
    }
  }

  func next() -> UInt64 {  // SplitMix64
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

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
        let v = [UInt32.max, 0x7FFF_FFFF, 0x8000_0000, 0, 1, UInt32(truncatingIfNeeded: bytes.count)][below(6)]
        for i in 0..<4 where at + i < bytes.count { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
      }
    }
    return Data(bytes)
  }

  // MARK: inputs and checks

  func makeInput(from seed: Seed) throws -> Data {
    if seed.isSafeTensors { return mutateSafeTensors(seed.raw) }
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

  /// Opens `path` with `SafeTensorsFile` and reads every tensor, as a `Tensor` and as raw bytes;
  /// both must match the header's entry. Returns the names.
  func readSafeTensors(_ path: String) throws -> [String] {
    let file = try SafeTensorsFile(path: path)
    guard file.keys.count == file.entries.count, Set(file.keys) == Set(file.entries.keys) else {
      throw Unexpected("SafeTensorsFile: keys \(file.keys.count) and entries \(file.entries.count) differ")
    }
    for key in file.keys {
      guard let entry = file.entries[key] else { throw Unexpected("SafeTensorsFile: no entry for key '\(key)'") }
      let t = try file.tensor(key)
      let raw = try file.bytes(key)
      guard t.dtype == entry.dtype, t.shape == entry.shape, raw.count == entry.range.count else {
        throw Unexpected("SafeTensorsFile: tensor '\(key)' is \(t.dtype) \(t.shape) with \(raw.count) bytes, its entry \(entry)")
      }
      let copied = try t.bytes()
      guard copied.count == raw.count, copied.elementsEqual(raw) else {
        throw Unexpected("SafeTensorsFile: tensor '\(key)' holds other bytes than the file")
      }
    }
    return file.keys.sorted()
  }

  /// Opens `path` as a user's file is opened (`TensorFile`), takes its state_dict (and the
  /// Lightning selections of it) and reads every tensor's bytes. Returns the kind and the names.
  func readTensorFile(_ path: String) throws -> (TensorFile.Kind, [String]) {
    let loaded = try TensorFile(path: path)
    let descriptors = loaded.descriptors()
    let stateDict = try loaded.stateDict()
    for (name, t) in stateDict {
      // A view may legally repeat its storage (stride 0) to a size no copy fits in; such tensors
      // are not copied out (their bounds were checked against the storage on load).
      let (size, overflow) = t.elementCount.multipliedReportingOverflow(by: t.dtype.byteSize)
      guard !overflow, size <= Self.maxTouchedBytes else { continue }
      let bytes = try t.bytes()
      guard bytes.count == t.elementCount * t.dtype.byteSize else {
        throw Unexpected("TensorFile: tensor '\(name)' gave \(bytes.count) bytes for \(t.dtype) \(t.shape)")
      }
    }
    for weights in StateDictSelection.Weights.allCases {
      // No key with the prefix is a CheckpointError, and a clean answer here.
      do { _ = try StateDictSelection.strip(stateDict, prefix: weights.prefix, file: path) } catch is CheckpointError {}
    }
    if loaded.kind == .safetensors {
      guard descriptors.map(\.name) == stateDict.map(\.0) else {
        throw Unexpected("TensorFile: descriptors and state_dict of a safetensors file name different tensors")
      }
    }
    return (loaded.kind, stateDict.map(\.0).sorted())
  }

  /// Runs one reader; its error, when it throws, decides the outcome.
  private func attempt<R>(_ body: () throws -> R) -> (Outcome, R?) {
    do {
      return (.accepted, try body())
    } catch is CheckpointError {
      return (.rejected, nil)
    } catch let error as Unexpected {
      return (.finding(error.description), nil)
    } catch {
      return (.finding("\(type(of: error)): \(error)"), nil)
    }
  }

  /// Every reader on one input: a finding from any of them is the outcome, else the verdict of the
  /// seed's own reader (`SafeTensorsFile` for safetensors seeds, `TensorFile` otherwise).
  func check(_ path: String, safetensors: Bool) -> Outcome {
    let (general, loaded) = attempt { try readTensorFile(path) }
    guard safetensors else { return general }
    let (direct, names) = attempt { try readSafeTensors(path) }
    if case .finding = direct { return direct }
    if case .finding = general { return general }
    if let names, let loaded, loaded.0 == .safetensors, names != loaded.1 {
      return .finding("SafeTensorsFile and TensorFile read different tensors: \(names.prefix(5)) vs \(loaded.1.prefix(5))")
    }
    return direct
  }

  /// Runs until `iterations` inputs or `deadline`, whichever comes first.
  public func run(iterations: Int = .max, until deadline: Date = .distantFuture, onFinding: (Finding) -> Void) throws {
    let file = scratch.appendingPathComponent("current.ckpt")
    while executions < iterations && Date() < deadline {
      let seed = seeds[below(seeds.count)]
      let input = try makeInput(from: seed)
      try input.write(to: file)
      executions += 1
      if seed.isSafeTensors { safetensorsExecutions += 1 }
      switch check(file.path, safetensors: seed.isSafeTensors) {
      case .accepted: accepted += 1
      case .rejected: rejected += 1
      case .finding(let message): onFinding(Finding(input: input, error: "\(seed.isSafeTensors ? "safetensors" : "torch") input: \(message)"))
      }
    }
  }
}
