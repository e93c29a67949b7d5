import CImaging
import Foundation

/// The size an image file displays at (its EXIF orientation applied), read from its header without
/// decoding it: PNG's IHDR chunk or a JPEG frame header (SOF marker) checked here, then libvips'
/// header reader. Lets a dataset check thousands of files when it opens.
public struct ImageHeader: Equatable, Sendable {
  public typealias Format = ImageFormat

  public let format: Format
  public let width: Int
  public let height: Int

  public init(format: Format, width: Int, height: Int) {
    self.format = format
    self.width = width
    self.height = height
  }

  /// Reads and checks the header of `path`: a known signature, a complete size field, a size in
  /// 1 … `ImageFile.maxPixels` pixels. JPEG marker segments are skipped by seeking, so large EXIF
  /// or ICC blocks before the frame header cost no more than a few small reads; the file is mapped,
  /// not read, for libvips' header reader.
  public static func read(_ path: String) throws -> ImageHeader {
    try read(data: try ImageFile.contents(path), name: path)
  }

  /// The same for image bytes in memory; `name` is used in error messages.
  public static func read(data: Data, name path: String) throws -> ImageHeader {
    guard let format = ImageFormat(sniffing: data) else {
      throw ImageError(file: path, reason: data.isEmpty ? "the file is empty" : "not a PNG, JPEG, WebP or TIFF file (unknown signature)")
    }
    if format == .png || format == .jpeg { _ = try parse(name: path, data: data) }
    var (width, height): (Int32, Int32) = (0, 0)
    var message = [CChar](repeating: 0, count: 512)
    let status = data.withUnsafeBytes { raw in
      ci_header(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &width, &height, &message, message.count)
    }
    guard status == 0 else { throw ImageError(file: path, reason: String(cMessage: message)) }
    return try ImageHeader(format: format, width: Int(width), height: Int(height)).checked(name: path)
  }

  /// Self, or an error when the size is over `ImageFile.maxPixels`.
  func checked(name: String) throws -> ImageHeader {
    guard UInt64(width) * UInt64(height) <= ImageFile.maxPixels else {
      throw ImageError(file: name, reason: "\(width)×\(height) pixels is over the pixel limit (\(ImageFile.maxPixels))")
    }
    return self
  }

  /// `parse` of a file's bytes (mapped or in memory).
  static func parse(name: String, data: Data) throws -> ImageHeader {
    try parse(name: name) { offset, count in
      offset < data.count ? [UInt8](data[data.startIndex + offset..<data.startIndex + min(data.count, offset + count)]) : []
    }
  }

  /// `bytes(offset, count)` returns up to `count` bytes of the file from `offset`.
  static func parse(name: String, bytes: (Int, Int) -> [UInt8]) throws -> ImageHeader {
    func u16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
    func u32(_ b: [UInt8], _ i: Int) -> Int { u16(b, i) << 16 | u16(b, i + 2) }
    let head = bytes(0, 33)
    let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    if head.starts(with: png) {
      guard head.count >= 33, Array(head[12..<16]) == Array("IHDR".utf8) else {
        throw ImageError(file: name, reason: "PNG without a complete IHDR chunk (truncated or corrupt)")
      }
      guard PNGText.crc32(Array(head[12..<29])) == UInt32(u32(head, 29)) else {
        throw ImageError(file: name, reason: "PNG IHDR chunk fails its CRC check (corrupt)")
      }
      let (w, h) = (u32(head, 16), u32(head, 20))
      guard w > 0, h > 0 else { throw ImageError(file: name, reason: "PNG declares a \(w)×\(h) image") }
      return ImageHeader(format: .png, width: w, height: h)
    }
    guard head.count >= 4, head[0] == 0xFF, head[1] == 0xD8 else {
      throw ImageError(file: name, reason: "not a PNG, JPEG, WebP or TIFF file (unknown signature)")
    }
    // Walk the marker segments to the first frame header: SOF0–SOF15 except DHT (C4), JPG (C8), DAC (CC).
    var offset = 2
    for _ in 0..<10_000 {
      let b = bytes(offset, 9)
      guard b.count >= 4 else { break }
      guard b[0] == 0xFF else { throw ImageError(file: name, reason: "corrupt JPEG marker structure at byte \(offset)") }
      let marker = b[1]
      if marker == 0xFF { offset += 1; continue }
      if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { offset += 2; continue }
      let length = u16(b, 2)
      guard length >= 2 else { throw ImageError(file: name, reason: "corrupt JPEG segment length at byte \(offset)") }
      if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
        guard b.count >= 9 else { break }
        let (h, w) = (u16(b, 5), u16(b, 7))
        guard w > 0, h > 0 else { throw ImageError(file: name, reason: "JPEG declares a \(w)×\(h) image") }
        return ImageHeader(format: .jpeg, width: w, height: h)
      }
      if marker == 0xD9 || marker == 0xDA { break }
      offset += 2 + length
    }
    throw ImageError(file: name, reason: "JPEG without a frame header (truncated or corrupt)")
  }
}
