import FileSupport
import Foundation
import Torch

/// Writes tensors as `.safetensors`, atomically.
public enum SafeTensors {
  /// Writes `tensors` (names must be unique) with string `metadata` to `url`. Tensors are written
  /// in the reference writer's order, so a file read and written again is byte-identical.
  public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to url: URL) throws {
    var seen = Set<String>()
    for (name, _) in tensors where !seen.insert(name).inserted {
      throw CheckpointError(file: url.path, "tensor name '\(name)' appears twice")
    }
    let ordered = tensors.sorted {
      let (a, b) = (SafeTensorsHeader.writeRank($0.1.dtype), SafeTensorsHeader.writeRank($1.1.dtype))
      return a != b ? a < b : $0.0 < $1.0
    }
    var entries: [(String, SafeTensorsFile.Entry)] = []
    var offset = 0
    for (name, t) in ordered {
      guard t.device != .meta else { throw CheckpointError(file: url.path, "tensor '\(name)' has no data (meta device)") }
      let n = t.elementCount * t.dtype.byteSize
      entries.append((name, .init(dtype: t.dtype, shape: t.shape, range: offset..<(offset + n))))
      offset += n
    }
    let header = SafeTensorsHeader.serialize(metadata: metadata, entries: entries)
    try AtomicFile.write(to: url) { append in
      var length = UInt64(header.count).littleEndian
      try withUnsafeBytes(of: &length) { try append($0) }
      try header.withUnsafeBytes { try append($0) }
      for (_, t) in ordered {
        let bytes = try t.bytes()
        try bytes.withUnsafeBytes { try append($0) }
      }
    }
  }

  /// Writes a dictionary of tensors (sorted by the writer's order).
  public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
    try write(tensors.map { ($0.key, $0.value) }, metadata: metadata, to: url)
  }
}
