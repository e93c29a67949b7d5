import Foundation

/// EXIF blocks and ICC profiles built byte by byte, so the tests can tag their images without
/// another encoder, and read the orientation back.
public enum MetadataBlocks {
  /// An EXIF block as libvips stores it ("Exif\0\0", then a little-endian TIFF header) whose IFD0
  /// holds Orientation (0x0112) and an ImageDescription that makes the block recognisable.
  public static func exif(orientation: UInt16, description: String = "fmboost test") -> [UInt8] {
    func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    let text = Array(description.utf8) + [0]
    let ifdSize = 2 + 2 * 12 + 4
    var tiff: [UInt8] = Array("II".utf8) + u16(42) + u32(8) + u16(2)
    tiff += u16(0x010E) + u16(2) + u32(UInt32(text.count)) + u32(UInt32(8 + ifdSize))  // ImageDescription, ASCII
    tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)  // Orientation, SHORT
    tiff += u32(0) + text
    return Array("Exif".utf8) + [0, 0] + tiff
  }

  /// The Orientation tag of an EXIF block (with or without the "Exif\0\0" prefix), or nil.
  public static func orientation(inEXIF block: [UInt8]) -> Int? {
    let tiff = block.starts(with: Array("Exif".utf8) + [0, 0]) ? Array(block.dropFirst(6)) : block
    guard tiff.count >= 8 else { return nil }
    let little = tiff[0] == 0x49
    func u16(_ i: Int) -> Int { little ? Int(tiff[i]) | Int(tiff[i + 1]) << 8 : Int(tiff[i]) << 8 | Int(tiff[i + 1]) }
    func u32(_ i: Int) -> Int { little ? u16(i) | u16(i + 2) << 16 : u16(i) << 16 | u16(i + 2) }
    let ifd = u32(4)
    guard ifd + 2 <= tiff.count else { return nil }
    for entry in 0..<u16(ifd) {
      let at = ifd + 2 + 12 * entry
      guard at + 12 <= tiff.count else { return nil }
      if u16(at) == 0x0112 { return u16(at + 8) }
    }
    return nil
  }

  /// An sRGB ICC v4 display profile (588 bytes): LittleCMS's built-in sRGB, as Pillow's
  /// `ImageCms.createProfile("sRGB")` writes it on 2026-12-07, with the creator field set to "FMBS"
  /// so that a copy is recognisable. libpng refuses hand-made profiles without the usual tags.
  public static let iccProfile: [UInt8] = Array(Data(base64Encoded: [
    "AAACTGxjbXMEQAAAbW50clJHQiBYWVogB+oADAAHAAQAOAAoYWNzcEFQUEwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPbW",
    "AAEAAAAA0y1GTUJTAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALZGVzYwAAAQgAAAA2",
    "Y3BydAAAAUAAAABMd3RwdAAAAYwAAAAUY2hhZAAAAaAAAAAsclhZWgAAAcwAAAAUYlhZWgAAAeAAAAAUZ1hZWgAAAfQAAAAU",
    "clRSQwAAAggAAAAgZ1RSQwAAAggAAAAgYlRSQwAAAggAAAAgY2hybQAAAigAAAAkbWx1YwAAAAAAAAABAAAADGVuVVMAAAAa",
    "AAAAHABzAFIARwBCACAAYgB1AGkAbAB0AC0AaQBuAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAADAAAAAcAE4AbwAgAGMAbwBw",
    "AHkAcgBpAGcAaAB0ACwAIAB1AHMAZQAgAGYAcgBlAGUAbAB5WFlaIAAAAAAAAPbWAAEAAAAA0y1zZjMyAAAAAAABDEIAAAXe",
    "///zJQAAB5MAAP2Q///7of///aIAAAPcAADAblhZWiAAAAAAAABvoAAAOPUAAAOQWFlaIAAAAAAAACSfAAAPhAAAtsNYWVog",
    "AAAAAAAAYpcAALeHAAAY2XBhcmEAAAAAAAMAAAACZmYAAPKnAAANWQAAE9AAAApbY2hybQAAAAAAAwAAAACj1wAAVHsAAEzN",
    "AACZmgAAJmYAAA9c",
  ].joined())!)
}
