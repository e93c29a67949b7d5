import Checkpoint
import Foundation
import TestSupport
import Testing
import Torch

/// Hostile torch.save files: each fails with a CheckpointError naming the file and the problem, or
/// loads without running anything; none crashes, hangs or allocates gigabytes.
@Suite struct HostileCheckpointTests {
  static let floats = Data((0..<16).flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) })

  func load(_ data: Data, _ name: String = "hostile.ckpt") throws -> (String, Result<TorchCheckpoint, Error>) {
    let dir = try temporaryDirectory("hostile")
    let path = dir.appendingPathComponent(name).path
    try data.write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(at: dir) }
    return (path, Result { try TorchCheckpoint(path: path) })
  }

  func expectFailure(_ data: Data, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (path, result) = try load(data)
    switch result {
    case .success: Issue.record("accepted a hostile file (expected '\(fragment)')", sourceLocation: sourceLocation)
    case .failure(let error):
      #expect(error is CheckpointError, "\(type(of: error)): \(error)", sourceLocation: sourceLocation)
      #expect("\(error)".hasPrefix(path), sourceLocation: sourceLocation)
      #expect("\(error)".contains(fragment), "\(error)", sourceLocation: sourceLocation)
    }
  }

  /// {'weight': <tensor>} with the given view and storage.
  func tensorFile(numel: Int64, offset: Int64 = 0, shape: [Int64], strides: [Int64], storage: Data = floats) throws -> Data {
    var p = PickleBuilder()
    p.emptyDict(); p.mark(); p.string("weight")
    p.tensor(numel: numel, offset: offset, shape: shape, strides: strides)
    p.setItems(); p.stop()
    return try PickleBuilder.torchZip(pickle: p.bytes, storages: ["0": storage])
  }

  @Test func aWellFormedHandMadeFileLoads() throws {
    let (_, result) = try load(try tensorFile(numel: 16, offset: 2, shape: [2, 3], strides: [1, 2]))
    let checkpoint = try result.get()
    let t = try #require(checkpoint.tensors().first?.tensor)
    #expect(try t.contiguous().toArray(Float.self) == [2, 4, 6, 3, 5, 7])
  }

  @Test func truncatedZip() throws {
    let good = try Data(contentsOf: URL(fileURLWithPath: Shared.golden("lightning_like.ckpt")))
    try expectFailure(good.prefix(good.count / 2), "zip")
    try expectFailure(good.prefix(100), "zip")
  }

  @Test func badCRC() throws {
    var bytes = try Data(contentsOf: URL(fileURLWithPath: Shared.golden("vae_a_flat.ckpt")))
    bytes[bytes.count / 2] ^= 0x5A  // inside a stored storage record
    try expectFailure(bytes, "damaged")
  }

  @Test func truncatedLegacyFile() throws {
    let good = try Data(contentsOf: URL(fileURLWithPath: Shared.golden("vae_a_flat_legacy.ckpt")))
    try expectFailure(good.prefix(good.count * 4 / 5), "the file holds at most")
    try expectFailure(good.prefix(5000), "pickle")
  }

  @Test func storagesShorterThanTheirTensors() throws {
    try expectFailure(try tensorFile(numel: 1000, shape: [1000], strides: [1]), "holds 64 bytes, its tensors need 4000")
    try expectFailure(try tensorFile(numel: 16, shape: [20], strides: [1]), "reaches element 19 of a storage of 16")
    try expectFailure(try tensorFile(numel: 16, offset: 15, shape: [2], strides: [1]), "reaches element 16")
  }

  @Test func negativeAndOverflowingShapesAndStrides() throws {
    try expectFailure(try tensorFile(numel: 16, shape: [-1], strides: [1]), "negative")
    try expectFailure(try tensorFile(numel: 16, shape: [2], strides: [-1]), "negative")
    try expectFailure(try tensorFile(numel: 16, offset: -4, shape: [2], strides: [1]), "negative")
    try expectFailure(try tensorFile(numel: 16, shape: [1 << 40, 1 << 40], strides: [1 << 40, 1 << 40]), "overflow")
    try expectFailure(try tensorFile(numel: 1 << 62, shape: [1], strides: [1]), "impossible size")
  }

  func pickleFile(_ build: (inout PickleBuilder) -> Void) throws -> Data {
    var p = PickleBuilder()
    build(&p)
    return try PickleBuilder.torchZip(pickle: p.bytes, storages: ["0": Self.floats])
  }

  @Test func absurdlyDeepNesting() throws {
    // 200,000 nested one-element tuples.
    try expectFailure(try pickleFile { p in
      p.raw([0x29]); p.raw([UInt8](repeating: 0x85, count: 200_000)); p.stop()
    }, "nested more than 64 levels")
    // 50 levels of (x, x): shallow, but 2^50 values once expanded.
    try expectFailure(try pickleFile { p in
      p.raw([0x29]); for _ in 0..<50 { p.raw([0x32, 0x86]) }; p.stop()
    }, "expands to more than")
    // A list that contains itself.
    try expectFailure(try pickleFile { p in
      p.raw([0x5D, 0x71, 0x00, 0x68, 0x00, 0x61]); p.stop()
    }, "cycle")
  }

  @Test func boundsAreCheckedBeforeAllocating() throws {
    try expectFailure(try pickleFile { p in p.raw([0x8D] + [UInt8](repeating: 0xFF, count: 7) + [0x3F]); p.stop() }, "declared length")
    try expectFailure(try pickleFile { p in p.raw([0x29, 0x72, 0xFF, 0xFF, 0xFF, 0x7F]); p.stop() }, "memo index")
    try expectFailure(try pickleFile { p in p.raw([0x6A, 0x05, 0x00, 0x00, 0x00]); p.stop() }, "never stored")
    try expectFailure(try pickleFile { p in p.raw([0x30]) }, "stack underflow")
    try expectFailure(try pickleFile { p in p.raw([0x29]) }, "remain")  // no STOP
    try expectFailure(try pickleFile { p in p.raw([0xFE]) }, "unsupported opcode")
  }

  /// Calls of os.system, builtins.eval, subprocess and posix are recorded, never made, and the
  /// tensors around them still load.
  @Test(arguments: [("os", "system"), ("builtins", "eval"), ("subprocess", "check_output"), ("posix", "system"), ("builtins", "exec")])
  func dangerousCallsNeitherRunNorBlockTheTensors(_ target: (String, String)) throws {
    let marker = FileManager.default.temporaryDirectory.appendingPathComponent("fmboost-pwned-\(UUID().uuidString)").path
    var p = PickleBuilder()
    p.emptyDict(); p.mark()
    p.string("evil"); p.global(target.0, target.1); p.mark(); p.string("touch \(marker)"); p.tuple(); p.reduce()
    p.string("weight"); p.tensor(numel: 16, shape: [4], strides: [1])
    p.setItems(); p.stop()
    let (_, result) = try load(try PickleBuilder.torchZip(pickle: p.bytes, storages: ["0": Self.floats]))
    let checkpoint = try result.get()
    #expect(!FileManager.default.fileExists(atPath: marker))
    #expect(checkpoint.skippedClasses == ["\(target.0).\(target.1)"])
    #expect(try checkpoint.stateDict().map(\.0) == ["weight"])
    #expect(try checkpoint.stateDict()[0].1.toArray(Float.self) == [0, 1, 2, 3])
  }

  @Test func notACheckpointAtAll() throws {
    try expectFailure(Data("hello world".utf8), "not a torch.save file")
    try expectFailure(Data([0x50, 0x4B, 0x03, 0x04, 0, 0]), "zip")
    // A valid torch.save of None loads, and asking it for a state_dict says what is wrong.
    let (path, result) = try load(try PickleBuilder.torchZip(pickle: [0x80, 0x02, 0x4E, 0x2E], storages: [:]))
    #expect {
      try result.get().stateDict()
    } throws: { "\($0)" == "\(path): holds no state_dict (its top level is not a dict)" }
  }
}
