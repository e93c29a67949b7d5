import Foundation

/// The size an image file declares, read from its first bytes without decoding it: PNG's IHDR
/// chunk or a JPEG frame header (SOF marker). Lets a dataset check thousands of files when it opens.
public struct ImageHeader: Equatable, Sendable {
  public enum Format: String, Sendable { case png, jpeg }

  public let format: Format
  public let width: Int
  public let height: Int

  public init(format: Format, width: Int, height: Int) {
    self.format = format
    self.width = width
    self.height = height
  }

  /// Reads and checks the header of `path`: a known signature, a complete size field, a size in
  /// 1 … `ImageFile.maxPixels` pixels, and at least some data past the header.
  public static func read(_ path: String) throws -> ImageHeader {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ImageError(file: path, reason: "cannot open the file")
    }
    defer { try? handle.close() }
    let bytes = [UInt8]((try? handle.read(upToCount: 1 << 16)) ?? Data())
    let header = try parse(bytes, name: path)
    guard UInt64(header.width) * UInt64(header.height) <= ImageFile.maxPixels else {
      throw ImageError(file: path, reason: "\(header.width)×\(header.height) pixels is more than the \(ImageFile.maxPixels) allowed")
    }
    return header
  }

  static func parse(_ b: [UInt8], name: String) throws -> ImageHeader {
    func u16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
    func u32(_ i: Int) -> Int { u16(i) << 16 | u16(i + 2) }
    let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    if b.starts(with: png) {
      guard b.count >= 33, Array(b[12..<16]) == Array("IHDR".utf8) else {
        throw ImageError(file: name, reason: "PNG without a complete IHDR chunk (truncated or corrupt)")
      }
      let (w, h) = (u32(16), u32(20))
      guard w > 0, h > 0 else { throw ImageError(file: name, reason: "PNG declares a \(w)×\(h) image") }
      return ImageHeader(format: .png, width: w, height: h)
    }
    guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else {
      throw ImageError(file: name, reason: "not a PNG or JPEG file (unknown signature)")
    }
    // Walk the marker segments to the first frame header: SOF0–SOF15 except DHT (C4), JPG (C8), DAC (CC).
    var i = 2
    while i + 4 <= b.count {
      guard b[i] == 0xFF else { throw ImageError(file: name, reason: "corrupt JPEG marker structure at byte \(i)") }
      let marker = b[i + 1]
      if marker == 0xFF { i += 1; continue }
      if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
      let length = u16(i + 2)
      guard length >= 2 else { throw ImageError(file: name, reason: "corrupt JPEG segment length at byte \(i)") }
      if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
        guard i + 9 <= b.count else { break }
        let (h, w) = (u16(i + 5), u16(i + 7))
        guard w > 0, h > 0 else { throw ImageError(file: name, reason: "JPEG declares a \(w)×\(h) image") }
        return ImageHeader(format: .jpeg, width: w, height: h)
      }
      if marker == 0xD9 || marker == 0xDA { break }
      i += 2 + length
    }
    throw ImageError(file: name, reason: "JPEG without a frame header in its first \(b.count) bytes (truncated or corrupt)")
  }
}
