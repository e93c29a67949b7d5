import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.*`): TFRecord framing with masked CRC-32C
/// and hand-encoded `Event`/`Summary` protocol buffers for scalars and PNG images.
public final class TensorBoardWriter {
  public let path: String
  private let handle: FileHandle

  public init(directory: URL) throws {
    let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
    let name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid()).0"
    path = directory.appendingPathComponent(name).path
    guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
      throw ConfigError("\(path): cannot create the TensorBoard event file")
    }
    handle = h
    var event = Proto()
    event.double(1, Date().timeIntervalSince1970)
    event.bytes(3, Array("brain.Event:2".utf8))
    try write(event.data)
  }

  deinit { try? handle.close() }

  public func scalar(_ tag: String, _ value: Double, step: Int) throws {
    var v = Proto()
    v.bytes(1, Array(tag.utf8))
    v.float(2, Float(value))
    try summary(v, step: step)
  }

  /// A PNG image (its encoded bytes) under `tag`.
  public func image(_ tag: String, png: [UInt8], height: Int, width: Int, step: Int) throws {
    var image = Proto()
    image.varint(1, UInt64(height))
    image.varint(2, UInt64(width))
    image.varint(3, 3)
    image.bytes(4, png)
    var v = Proto()
    v.bytes(1, Array(tag.utf8))
    v.bytes(4, image.data)
    try summary(v, step: step)
  }

  private func summary(_ value: Proto, step: Int) throws {
    var summary = Proto()
    summary.bytes(1, value.data)
    var event = Proto()
    event.double(1, Date().timeIntervalSince1970)
    event.varint(2, UInt64(bitPattern: Int64(step)))
    event.bytes(5, summary.data)
    try write(event.data)
  }

  private func write(_ data: [UInt8]) throws {
    var record: [UInt8] = []
    let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
    record += length
    record += withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
    record += data
    record += withUnsafeBytes(of: CRC32C.masked(data).littleEndian, Array.init)
    try handle.write(contentsOf: Data(record))
  }

  /// Minimal protocol-buffer encoding.
  struct Proto {
    var data: [UInt8] = []
    mutating func key(_ field: Int, _ wire: Int) { appendVarint(UInt64(field << 3 | wire)) }
    mutating func appendVarint(_ v: UInt64) {
      var v = v
      while v >= 0x80 { data.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
      data.append(UInt8(v))
    }
    mutating func varint(_ field: Int, _ v: UInt64) { key(field, 0); appendVarint(v) }
    mutating func double(_ field: Int, _ v: Double) { key(field, 1); data += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
    mutating func float(_ field: Int, _ v: Float) { key(field, 5); data += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
    mutating func bytes(_ field: Int, _ v: [UInt8]) { key(field, 2); appendVarint(UInt64(v.count)); data += v }
  }
}

/// CRC-32C (Castagnoli), as TFRecord frames use it.
public enum CRC32C {
  static let table: [UInt32] = (0..<256).map { i in
    var c = UInt32(i)
    for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
    return c
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    return ~crc
  }

  /// TFRecord's mask: rotate right by 15 and add a constant.
  public static func masked(_ bytes: [UInt8]) -> UInt32 {
    let c = checksum(bytes)
    return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
  }
}
