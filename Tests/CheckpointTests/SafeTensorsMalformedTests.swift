import Checkpoint
import FileSupport
import Foundation
import Testing
import TestSupport
import Torch

/// Hostile files: each gives a CheckpointError naming the file and the problem, never a crash or
/// a large allocation.
@Suite struct SafeTensorsMalformedTests {
  static func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var bytes = Data()
    var n = (declaredLength ?? UInt64(header.utf8.count)).littleEndian
    withUnsafeBytes(of: &n) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: Array(header.utf8))
    bytes.append(contentsOf: data)
    return bytes
  }

  static let cases: [(String, Data, String)] = [
    ("absurd header length", file(header: "{}", declaredLength: 1 << 60), "exceeds the limit"),
    ("header past end of file", file(header: "{}", declaredLength: 4096), "runs past the end"),
    ("too short", Data([1, 2, 3]), "too short"),
    ("invalid JSON", file(header: "{\"a\": [1, 2"), "not valid JSON"),
    ("not an object", file(header: "[1, 2]"), "not a JSON object"),
    ("deep nesting", file(header: String(repeating: "[", count: 100_000)), "nested more than"),
    ("offsets out of range",
     file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), "beyond the 4-byte data section"),
    ("overlapping",
     file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
          data: Array(repeating: 0, count: 8)), "overlaps"),
    ("shape disagrees with bytes",
     file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "needs 12 bytes"),
    ("overflowing shape",
     file(header: #"{"a":{"dtype":"F32","shape":[4611686018427387903,4611686018427387903],"data_offsets":[0,8]}}"#,
          data: Array(repeating: 0, count: 8)), "overflows"),
    ("negative dimension",
     file(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "non-negative integer"),
    ("unknown dtype",
     file(header: #"{"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "unsupported dtype"),
    ("begin after end",
     file(header: #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#, data: Array(repeating: 0, count: 8)), "begin after end"),
    ("trailing bytes",
     file(header: #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, data: Array(repeating: 0, count: 8)), "cover 2"),
  ]

  @Test(arguments: cases.indices)
  func malformedFileIsRejectedClearly(_ index: Int) throws {
    let (label, bytes, fragment) = Self.cases[index]
    let directory = try temporaryDirectory("bad")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("bad.safetensors").path
    try bytes.write(to: URL(fileURLWithPath: path))
    do {
      _ = try SafeTensorsFile(path: path)
      Issue.record("\(label): accepted")
    } catch let error as CheckpointError {
      #expect(error.file == path)
      #expect(error.description.contains(fragment), "\(label): \(error)")
    }
  }

  /// A header length whose first byte is 0x80 (pickle's PROTO opcode) is still safetensors.
  @Test func headerLengthStartingWith0x80IsNotMistakenForAPickle() throws {
    let folder = try temporaryDirectory("st-0x80")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("m.safetensors")
    var found = false
    for padding in 0..<512 {
      try SafeTensors.write([("w", try Torch.Tensor([1.5, 2.5]))], metadata: ["pad": String(repeating: "x", count: padding)], to: url)
      guard try Data(contentsOf: url).first == 0x80 else { continue }
      found = true
      let file = try TensorFile(path: url.path)
      #expect(file.kind == .safetensors)
      #expect(try file.stateDict().first?.1.toArray(Double.self) == [1.5, 2.5])
      break
    }
    #expect(found)
  }

  @Test func missingFileNamesThePath() {
    #expect(throws: CheckpointError.self) { try SafeTensorsFile(path: "/nonexistent/x.safetensors") }
  }

  @Test func failedWriteLeavesTheOldFileIntact() throws {
    let directory = try temporaryDirectory("atomic")
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("model.safetensors")
    try Data("old".utf8).write(to: url)
    struct DiskFull: Error {}
    #expect(throws: DiskFull.self) {
      try AtomicFile.write(to: url) { append in
        try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try append($0) }
        throw DiskFull()
      }
    }
    #expect(try Data(contentsOf: url) == Data("old".utf8))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
  }
}
