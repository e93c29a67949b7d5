import Foundation
import Torch

/// Any file of tensors a user may bring — safetensors, or a `torch.save` file (`.ckpt`, `.pth`,
/// `.pt`, zip or legacy) — recognised by its content, not its name.
public struct TensorFile {
  public enum Kind: String, Sendable {
    case safetensors
    case torchZip = "torch.save (zip)"
    case torchLegacy = "torch.save (legacy)"
  }

  /// One tensor's name, dtype and shape.
  public struct Descriptor: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public var elementCount: Int { shape.reduce(1, *) }
  }

  public let path: String
  public let kind: Kind
  /// safetensors `__metadata__` (empty for torch files).
  public let metadata: [String: String]
  /// Classes a torch file referenced that were recorded by name, never constructed.
  public let skippedClasses: [String]
  private let safetensors: SafeTensorsFile?
  private let checkpoint: TorchCheckpoint?

  public init(path: String) throws {
    self.path = path
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw CheckpointError(file: path, FileManager.default.fileExists(atPath: path) ? "is not readable" : "does not exist")
    }
    let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 9)) ?? Data()
    // Safetensors first: its 8-byte header length may well start with 0x80, pickle's PROTO opcode.
    if head.count == 9 && head.last == UInt8(ascii: "{") {
      let s = try SafeTensorsFile(path: path)
      safetensors = s
      checkpoint = nil
      kind = .safetensors
      metadata = s.metadata
      skippedClasses = []
    } else if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.first == 0x80 {
      let c = try TorchCheckpoint(path: path)
      checkpoint = c
      safetensors = nil
      kind = c.format == .legacy ? .torchLegacy : .torchZip
      metadata = [:]
      skippedClasses = c.skippedClasses
    } else {
      throw CheckpointError(file: path, "not a checkpoint: neither safetensors nor a torch.save zip or pickle")
    }
  }

  /// Every tensor's descriptor: safetensors keys, or torch paths (`state_dict/model.net.x`).
  public func descriptors() -> [Descriptor] {
    if let s = safetensors {
      return s.keys.map { Descriptor(name: $0, dtype: s.entries[$0]!.dtype, shape: s.entries[$0]!.shape) }
    }
    return checkpoint!.tensors().map { Descriptor(name: $0.path, dtype: $0.tensor.dtype, shape: $0.tensor.shape) }
  }

  /// The flat state_dict (see `TorchCheckpoint.stateDict()`); all tensors of a safetensors file.
  public func stateDict() throws -> [(String, Tensor)] {
    if let s = safetensors { return try s.keys.map { ($0, try s.tensor($0)) } }
    return try checkpoint!.stateDict()
  }

  /// The flat state_dict with each tensor read when it is asked for: lazily from a safetensors
  /// file (one tensor in memory at a time), from memory for a torch file (read whole on open).
  public func lazyStateDict() throws -> [(String, () throws -> Tensor)] {
    if let s = safetensors { return s.keys.map { key in (key, { try s.tensor(key) }) } }
    return try checkpoint!.stateDict().map { key, tensor in (key, { tensor }) }
  }

  /// Every state_dict key's shape (a torch file's tensors are in memory already).
  public func shapes() throws -> [String: [Int]] {
    if safetensors != nil { return Dictionary(descriptors().map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a }) }
    return Dictionary(try stateDict().map { ($0.0, $0.1.shape) }, uniquingKeysWith: { a, _ in a })
  }

  /// Every tensor with its path: safetensors keys, or the torch file's nested dict keys joined by
  /// "/" (a TorchScript module's attributes: `net/layers/conv/weight`).
  public func allTensors() throws -> [(String, Tensor)] {
    if safetensors != nil { return try stateDict() }
    return checkpoint!.tensors().map { ($0.path, $0.tensor) }
  }
}
