import Foundation
import Imaging
import TestSupport
import Testing
import Torch

/// What people's image files carry, read as displayed and written back: EXIF orientation, alpha,
/// greyscale, 16-bit samples, ICC profiles and EXIF blocks, WebP and TIFF (through libvips).
@Suite struct ImageFormatsTests {
  /// A (3, H, W) image with distinct rows and columns, so a rotation or flip shows.
  static func ramp(width: Int, height: Int) throws -> Tensor {
    let x = try Tensor.arange(0, Double(width)).reshape([1, 1, width]).expand([1, height, width]) / Double(width)
    let y = try Tensor.arange(0, Double(height)).reshape([1, height, 1]).expand([1, height, width]) / Double(height)
    return try Tensor.cat([x, y, (x + y) / 2], dim: 0).contiguous()
  }

  /// Orientation 6 (a phone held upright): the stored 40 × 30 pixels are shown rotated 90°
  /// clockwise, 30 × 40; written back, the pixels stay upright and the orientation is 1.
  @Test func exifOrientationIsAppliedAndNotReapplied() throws {
    let dir = try temporaryDirectory("orientation")
    defer { try? FileManager.default.removeItem(at: dir) }
    let stored = try Self.ramp(width: 40, height: 30)
    let plain = dir.appendingPathComponent("plain.png").path, rotated = dir.appendingPathComponent("rotated.jpg").path
    try ImageFile.write(stored, to: plain)
    let jpeg = Data(try ImageFile.encode(stored, name: rotated, range: .unit, jpeg: true, jpegQuality: 100))
    try JPEGSegments.inserting(exif: MetadataBlocks.exif(orientation: 6), into: jpeg).write(to: URL(fileURLWithPath: rotated))
    #expect(try ImageHeader.read(rotated) == ImageHeader(format: .jpeg, width: 30, height: 40))
    let picture = try ImageFile.load(rotated)
    #expect(picture.width == 30 && picture.height == 40)
    // Rotated 90° clockwise: displayed (r, c) is stored (H − 1 − c, r).
    let clockwise = try ImageFile.read(plain).transpose(1, 2).flip([2])
    #expect(try (picture.color - clockwise).abs().mean().item() < 2.0 / 255)
    let out = dir.appendingPathComponent("out.png").path
    try ImageFile.save(picture, to: out)
    let back = try ImageFile.load(out)
    #expect(back.width == 30 && back.height == 40)
    let exif = try #require(back.metadata.exif)
    #expect(MetadataBlocks.orientation(inEXIF: exif) == 1)
    #expect(String(decoding: exif, as: UTF8.self).contains("fmboost test"))
  }

  @Test func alphaGreyAnd16BitSurviveARoundTrip() throws {
    let dir = try temporaryDirectory("planes")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (w, h) = (5, 3)
    func rgbaPixel(_ x: Int, _ y: Int) -> [UInt8] { [UInt8(x * 50), UInt8(y * 80), 7, UInt8(x * 60 + y)] }
    let rgbaRows: [[UInt8]] = (0..<h).map { y in (0..<w).flatMap { x in rgbaPixel(x, y) } }
    let rgba = try ImageFile.decodePicture(MinimalPNG.make(width: w, height: h, bitDepth: 8, colorType: 6, rows: rgbaRows), name: "rgba.png")
    let alpha = try #require(rgba.alpha)
    let expectedAlpha: [Float] = (0..<w).map { x in Float(x * 60 + 2) / 255 }
    #expect(try alpha.select(dim: 0, index: 0).select(dim: 0, index: 2).toArray(Float.self) == expectedAlpha)
    #expect(!rgba.isGrey && rgba.bitDepth == 8)
    let grey16Rows: [[UInt8]] = (0..<h).map { y in
      (0..<w).flatMap { x -> [UInt8] in
        let v = x * 13_000 + y * 7
        return [UInt8(v >> 8), UInt8(v & 0xFF)]
      }
    }
    let grey16 = try ImageFile.decodePicture(MinimalPNG.make(width: w, height: h, bitDepth: 16, colorType: 0, rows: grey16Rows), name: "g16.png")
    #expect(grey16.isGrey && grey16.bitDepth == 16 && grey16.alpha == nil)
    for (picture, name, format) in [(rgba, "rgba.png", ImageFormat.png), (grey16, "g16.png", .png), (rgba, "rgba.tif", .tiff), (grey16, "g16.tif", .tiff)] {
      let path = dir.appendingPathComponent(name).path
      try ImageFile.save(picture, to: path)
      let back = try ImageFile.load(path)
      #expect(back.isGrey == picture.isGrey && back.bitDepth == picture.bitDepth && (back.alpha == nil) == (picture.alpha == nil), "\(name)")
      #expect(try back.color.maxAbsDifference(picture.color) < 1e-6, "\(name)")
      if let a = picture.alpha { #expect(try #require(back.alpha).maxAbsDifference(a) < 1e-6, "\(name)") }
      #expect(try ImageFormat(path: path) == ImageHeader.read(path).format)
    }
    // 16-bit samples exactly: 13,000 is not a multiple of 257, so 8 bits could not hold it.
    let back = try ImageFile.load(dir.appendingPathComponent("g16.png").path)
    #expect(try (back.color.select(dim: 0, index: 0).select(dim: 0, index: 0) * 65535).round().toArray(Float.self) == [0, 13_000, 26_000, 39_000, 52_000])
  }

  /// WebP keeps alpha (lossy colour, lossless alpha at quality 95), JPEG drops it; both are 8-bit.
  @Test func webpAndJPEGOutputs() throws {
    let dir = try temporaryDirectory("webp")
    defer { try? FileManager.default.removeItem(at: dir) }
    let color = try Self.ramp(width: 64, height: 48)
    let alpha = try color.narrow(dim: 0, start: 0, length: 1).contiguous()
    let picture = Picture(color: color, alpha: alpha, bitDepth: 16)
    let webp = dir.appendingPathComponent("x.webp").path, jpeg = dir.appendingPathComponent("x.jpg").path
    try ImageFile.save(picture, to: webp)
    try ImageFile.save(picture, to: jpeg)
    let fromWebP = try ImageFile.load(webp), fromJPEG = try ImageFile.load(jpeg)
    #expect(try ImageHeader.read(webp) == ImageHeader(format: .webp, width: 64, height: 48))
    #expect(fromWebP.bitDepth == 8 && fromJPEG.bitDepth == 8 && fromJPEG.alpha == nil)
    #expect(try #require(fromWebP.alpha).maxAbsDifference(alpha) <= 1.0 / 255 + 1e-6)
    #expect(try (fromWebP.color - color).abs().mean().item() < 2.0 / 255)
    #expect(try (fromJPEG.color - color).abs().mean().item() < 2.0 / 255)
  }

  /// The ICC profile and the EXIF block are copied byte for byte from PNG and JPEG files.
  @Test func iccProfileAndEXIFAreCarried() throws {
    let dir = try temporaryDirectory("icc")
    defer { try? FileManager.default.removeItem(at: dir) }
    let profile = MetadataBlocks.iccProfile
    let rows: [[UInt8]] = (0..<4).map { y in (0..<6).flatMap { x -> [UInt8] in [UInt8(x * 40), UInt8(y * 60), 90] } }
    let png = try ImageFile.decodePicture(MinimalPNG.make(width: 6, height: 4, bitDepth: 8, colorType: 2, rows: rows, iccProfile: profile), name: "icc.png")
    #expect(png.metadata.iccProfile == profile)
    let jpegBytes = Data(try ImageFile.encode(Self.ramp(width: 16, height: 8), name: "x.jpg", range: .unit, jpeg: true))
    let tagged = JPEGSegments.inserting(exif: MetadataBlocks.exif(orientation: 1), iccProfile: profile, into: jpegBytes)
    let jpeg = try ImageFile.decodePicture(tagged, name: "icc.jpg")
    #expect(jpeg.metadata.iccProfile == profile)
    #expect(jpeg.metadata.exif.map { String(decoding: $0, as: UTF8.self).contains("fmboost test") } == true)
    for format in ImageFormat.allCases {
      for (picture, name) in [(png, "png"), (jpeg, "jpeg")] {
        let path = dir.appendingPathComponent("\(name)-out.\(format.fileExtension)").path
        try ImageFile.save(picture, to: path)
        let back = try ImageFile.load(path)
        #expect(back.metadata.iccProfile == profile, "\(name) → \(format)")
        if format != .tiff, picture.metadata.exif != nil {
          #expect(back.metadata.exif.map { String(decoding: $0, as: UTF8.self).contains("fmboost test") } == true, "\(name) → \(format)")
        }
      }
    }
  }
}
