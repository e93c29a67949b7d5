import Foundation
import Torch

/// A `.safetensors` file opened memory-mapped. The header is validated completely on open; tensor
/// data is read lazily, one tensor at a time, when asked for.
public final class SafeTensorsFile {
  /// One tensor's entry in the header.
  public struct Entry: Sendable, Equatable {
    public let dtype: DType
    public let shape: [Int]
    /// Byte range inside the data section.
    public let range: Range<Int>
  }

  /// The largest header accepted (the reference implementation's limit).
  public static let maxHeaderSize = 100_000_000

  public let path: String
  /// The `__metadata__` strings.
  public let metadata: [String: String]
  public let entries: [String: Entry]
  /// Tensor names in the order of their data.
  public let keys: [String]
  private let data: Data
  private let dataStart: Int

  public init(path: String) throws {
    self.path = path
    data = try MappedFile.map(path)
    guard data.count >= 8 else { throw CheckpointError(file: path, "file is too short to be safetensors (\(data.count) bytes)") }
    let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    guard headerLength <= UInt64(Self.maxHeaderSize) else {
      throw CheckpointError(file: path, "header length \(headerLength) exceeds the limit of \(Self.maxHeaderSize) bytes")
    }
    guard headerLength <= UInt64(data.count - 8) else {
      throw CheckpointError(file: path, "header length \(headerLength) runs past the end of the \(data.count)-byte file")
    }
    dataStart = 8 + Int(headerLength)
    let header = SafeTensorsHeader.Parser(file: path, bytes: data.subdata(in: 8..<dataStart), dataLength: data.count - dataStart)
    let parsed = try header.parse()
    metadata = parsed.metadata
    entries = parsed.entries
    keys = parsed.order
  }

  /// The tensor `name` as a new CPU tensor.
  public func tensor(_ name: String) throws -> Tensor {
    guard let entry = entries[name] else { throw CheckpointError(file: path, "no tensor named '\(name)'") }
    return try data.withUnsafeBytes { raw in
      let bytes = UnsafeRawBufferPointer(rebasing: raw[(dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)])
      let tensor = try Tensor(bytes: bytes, shape: entry.shape, dtype: entry.dtype)
      // The copy is the tensor: the file's pages need not stay resident beside it.
      MappedFile.release(bytes)
      return tensor
    }
  }

  /// The raw little-endian bytes of tensor `name`.
  public func bytes(_ name: String) throws -> Data {
    guard let entry = entries[name] else { throw CheckpointError(file: path, "no tensor named '\(name)'") }
    return data.subdata(in: (dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound))
  }

  /// Every tensor, by name.
  public func tensors() throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for key in keys { result[key] = try tensor(key) }
    return result
  }
}
