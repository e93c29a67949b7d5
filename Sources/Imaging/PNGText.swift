/// Text chunks in PNG files (`parameters`, the key other SD tools read a generation's settings
/// from): tEXt for Latin-1 text, iTXt (uncompressed UTF-8) otherwise, placed after IHDR.
enum PNGText {
  static func insert(_ entries: [(key: String, value: String)], into png: [UInt8]) -> [UInt8] {
    guard !entries.isEmpty, png.count > 33 else { return png }
    let chunks = entries.flatMap { key, value -> [UInt8] in
      let latin1 = value.unicodeScalars.allSatisfy { $0.value < 256 }
      let data = latin1
        ? Array(key.utf8) + [0] + value.unicodeScalars.map { UInt8($0.value) }
        : Array(key.utf8) + [0, 0, 0, 0, 0] + Array(value.utf8)
      return chunk(latin1 ? "tEXt" : "iTXt", data)
    }
    // Signature (8 bytes) and IHDR (4 + 4 + 13 + 4).
    return Array(png[..<33]) + chunks + Array(png[33...])
  }

  static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
  }

  static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

  static let table: [UInt32] = (0..<256).map { n in
    (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
  }

  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    ~bytes.reduce(~UInt32(0)) { table[Int(($0 ^ UInt32($1)) & 0xFF)] ^ ($0 >> 8) }
  }

  /// The text chunks of a PNG file, by key (for tests and `fmboost info`-style readers).
  static func read(_ png: [UInt8]) -> [String: String] {
    var result: [String: String] = [:]
    var offset = 8
    while offset + 12 <= png.count {
      let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
      guard offset + 12 + length <= png.count else { break }
      let type = String(decoding: png[offset + 4..<offset + 8], as: UTF8.self)
      let data = Array(png[offset + 8..<offset + 8 + length])
      if let zero = data.firstIndex(of: 0), type == "tEXt" || type == "iTXt" {
        let key = String(decoding: data[..<zero], as: UTF8.self)
        result[key] = type == "tEXt"
          ? String(String.UnicodeScalarView(data[(zero + 1)...].map { Unicode.Scalar($0) }))
          : String(decoding: data[min(data.count, zero + 5)...], as: UTF8.self)
      }
      offset += 12 + length
    }
    return result
  }
}
