import Foundation

/// Builds PNG files of any colour type and bit depth with stored (uncompressed) deflate blocks, so
/// the tests can make grayscale, RGBA, palette and 16-bit inputs without another encoder.
public enum MinimalPNG {
  /// `rows` are the raw scanlines without filter bytes.
  /// `iccProfile`: an iCCP chunk (zlib, stored blocks) before the image data.
  public static func make(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]], palette: [UInt8]? = nil,
                          iccProfile: [UInt8]? = nil) -> Data {
    var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    var ihdr = Data()
    ihdr.append(bigEndian: UInt32(width))
    ihdr.append(bigEndian: UInt32(height))
    ihdr.append(contentsOf: [bitDepth, colorType, 0, 0, 0])
    png.appendChunk("IHDR", ihdr)
    if let iccProfile { png.appendChunk("iCCP", Data("test".utf8) + Data([0, 0]) + zlibStored(iccProfile)) }
    if let palette { png.appendChunk("PLTE", Data(palette)) }
    var raw = [UInt8]()
    for row in rows { raw.append(0); raw.append(contentsOf: row) }
    png.appendChunk("IDAT", zlibStored(raw))
    png.appendChunk("IEND", Data())
    return png
  }

  static func zlibStored(_ bytes: [UInt8]) -> Data {
    var out = Data([0x78, 0x01])
    var offset = 0
    repeat {
      let n = min(65_535, bytes.count - offset)
      let final: UInt8 = offset + n >= bytes.count ? 1 : 0
      out.append(final)
      out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
      out.append(UInt8(~n & 0xFF)); out.append(UInt8((~n >> 8) & 0xFF))
      out.append(contentsOf: bytes[offset..<(offset + n)])
      offset += n
    } while offset < bytes.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in bytes { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
    out.append(bigEndian: b << 16 | a)
    return out
  }

  static func crc32(_ data: Data) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }
}

extension Data {
  mutating func append(bigEndian value: UInt32) {
    append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
  }

  mutating func appendChunk(_ type: String, _ body: Data) {
    append(bigEndian: UInt32(body.count))
    let typed = Data(type.utf8) + body
    append(typed)
    append(bigEndian: MinimalPNG.crc32(typed))
  }
}

/// JPEG files with APP segments spliced in after the SOI marker: an EXIF block (APP1) or an ICC
/// profile (APP2, one chunk), as cameras write them.
public enum JPEGSegments {
  public static func inserting(exif: [UInt8]? = nil, iccProfile: [UInt8]? = nil, into jpeg: Data) -> Data {
    func segment(_ marker: UInt8, _ body: [UInt8]) -> [UInt8] {
      let length = body.count + 2
      return [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + body
    }
    var segments: [UInt8] = []
    if let exif { segments += segment(0xE1, exif) }
    if let iccProfile { segments += segment(0xE2, Array("ICC_PROFILE".utf8) + [0, 1, 1] + iccProfile) }
    return jpeg.prefix(2) + Data(segments) + jpeg.dropFirst(2)
  }
}
