import Foundation
import Imaging
import TestSupport
import Testing
import Torch

/// `fmboost upsample` with the shipped default model on the files people have, 200 × 160 crops of
/// a real photo: a phone JPEG held upright (EXIF orientation 6), RGBA, 16-bit grey and RGB, ICC
/// profiles and EXIF blocks, WebP and TIFF; and bad files beside them, each reported while the
/// rest are processed. Every output is read back.
@Suite struct UpsamplePeoplesFilesTests {
  static let (width, height) = (200, 160)

  /// A 200 × 160 crop of a real photo, (3, H, W) in [0, 1].
  static func crop() throws -> Tensor {
    try ImageFile.read(Shared.photo("coffee.png")).narrow(dim: 1, start: 100, length: height).narrow(dim: 2, start: 150, length: width).contiguous()
  }

  /// PNG scanlines of `planes` (C, H, W) in [0, 1] at 8 or 16 bits (big-endian).
  static func rows(_ planes: Tensor, bitDepth: Int) throws -> [[UInt8]] {
    let scale = bitDepth == 16 ? 65535.0 : 255.0
    let samples = try (planes * scale).round().to(.int32).permute([1, 2, 0]).contiguous().toArray(Int32.self)
    let perRow = planes.size(0) * planes.size(2)
    return (0..<planes.size(1)).map { y in
      samples[y * perRow..<(y + 1) * perRow].flatMap { v -> [UInt8] in bitDepth == 16 ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v)] }
    }
  }

  @Test func everyKindOfFileComesOutAsItWentIn() throws {
    let dir = try temporaryDirectory("peoples-files")
    defer { try? FileManager.default.removeItem(at: dir) }
    func path(_ name: String) -> String { dir.appendingPathComponent("in/\(name)").path }
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("in"), withIntermediateDirectories: true)
    let photo = try Self.crop()
    let (w, h) = (Self.width, Self.height)
    // A phone held upright: 200 × 160 stored, shown 160 × 200.
    let jpeg = Data(try ImageFile.encode(photo, name: "phone.jpg", range: .unit, jpeg: true, jpegQuality: 95))
    try JPEGSegments.inserting(exif: MetadataBlocks.exif(orientation: 6), into: jpeg).write(to: URL(fileURLWithPath: path("phone.jpg")))
    // RGBA with a gradient alpha; 16-bit grey; 16-bit RGB.
    let alpha = try Tensor.arange(0, Double(w)).reshape([1, 1, w]).expand([1, h, w]).contiguous() / Double(w - 1)
    try MinimalPNG.make(width: w, height: h, bitDepth: 8, colorType: 6, rows: Self.rows(Tensor.cat([photo, alpha], dim: 0), bitDepth: 8))
      .write(to: URL(fileURLWithPath: path("rgba.png")))
    let grey = try photo.mean(dim: 0, keepDim: true)
    try MinimalPNG.make(width: w, height: h, bitDepth: 16, colorType: 0, rows: Self.rows(grey, bitDepth: 16)).write(to: URL(fileURLWithPath: path("grey16.png")))
    try MinimalPNG.make(width: w, height: h, bitDepth: 16, colorType: 2, rows: Self.rows(photo, bitDepth: 16)).write(to: URL(fileURLWithPath: path("rgb16.png")))
    // ICC profiles and an EXIF block.
    let profile = MetadataBlocks.iccProfile
    try MinimalPNG.make(width: w, height: h, bitDepth: 8, colorType: 2, rows: Self.rows(photo, bitDepth: 8), iccProfile: profile)
      .write(to: URL(fileURLWithPath: path("icc.png")))
    try JPEGSegments.inserting(exif: MetadataBlocks.exif(orientation: 1), iccProfile: profile, into: jpeg).write(to: URL(fileURLWithPath: path("camera.jpg")))
    // WebP and TIFF.
    try ImageFile.write(photo, to: path("web.webp"))
    try ImageFile.write(photo, to: path("scan.tif"))
    // Bad files: each one clear error, the rest still processed.
    try Data().write(to: URL(fileURLWithPath: path("empty.png")))
    try Data("not an image".utf8).write(to: URL(fileURLWithPath: path("notes.png")))
    try Data(try Data(contentsOf: URL(fileURLWithPath: path("icc.png"))).prefix(3000)).write(to: URL(fileURLWithPath: path("truncated.png")))
    try ImageFile.write(Tensor.rand([3, 1, 1]), to: path("dot.png"))
    try MinimalPNG.make(width: 60_000, height: 60_000, bitDepth: 8, colorType: 2, rows: []).write(to: URL(fileURLWithPath: path("bomb.png")))

    let out = dir.appendingPathComponent("out").path
    let run = try CommandRunner.fmboost(["upsample", dir.appendingPathComponent("in").path, "-o", out])
    #expect(run.status == 1, "\(run.output) \(run.error)")
    for (name, fragment) in [("empty.png", "the file is empty"), ("notes.png", "not a PNG, JPEG, WebP or TIFF"), ("truncated.png", "PNG"),
                             ("dot.png", "1×1 pixels is too small"), ("bomb.png", "pixel limit")] {
      #expect(run.error.contains(name) && run.error.contains(fragment), "\(name): \(run.error)")
      #expect(!FileManager.default.fileExists(atPath: "\(out)/\((name as NSString).deletingPathExtension).png"), "\(name)")
    }
    func output(_ name: String) throws -> Picture { try ImageFile.load("\(out)/\(name)") }

    // Upright as displayed: 320 × 400, its content the displayed input's, orientation 1.
    let phone = try output("phone.png")
    #expect(phone.width == 2 * h && phone.height == 2 * w)
    let displayed = try ImageFile.read(path("phone.jpg"))
    let down = try phone.color.unsqueeze(dim: 0).interpolate(size: (w, h), mode: .area).squeeze(dim: 0)
    #expect(try (down - displayed).abs().mean().item() < 0.03)
    #expect(phone.metadata.exif.flatMap(MetadataBlocks.orientation(inEXIF:)) ?? 1 == 1)

    // Alpha kept: the bicubic ×2 of the input's alpha, within 2/255 on average.
    let rgba = try output("rgba.png")
    let bicubicAlpha = try alpha.unsqueeze(dim: 0).interpolate(size: (2 * h, 2 * w), mode: .bicubic).clamp(min: 0, max: 1).squeeze(dim: 0)
    #expect(try (#require(rgba.alpha) - bicubicAlpha).abs().mean().item() <= 2.0 / 255)
    #expect(rgba.width == 2 * w && rgba.height == 2 * h && !rgba.isGrey)

    // 16 bits stay 16 bits; grey stays grey.
    let grey16 = try output("grey16.png"), rgb16 = try output("rgb16.png")
    #expect(grey16.bitDepth == 16 && grey16.isGrey && grey16.alpha == nil)
    #expect(rgb16.bitDepth == 16 && !rgb16.isGrey)
    let fine = try (rgb16.color * 65535).round()
    #expect(try (fine - (fine / 257).round() * 257).abs().sum().item() > 0, "the 16-bit output holds only 8-bit values")

    // The profile byte for byte; the EXIF block too.
    #expect(try output("icc.png").metadata.iccProfile == profile)
    let camera = try output("camera.png")
    #expect(camera.metadata.iccProfile == profile)
    #expect(camera.metadata.exif.map { String(decoding: $0, as: UTF8.self).contains("fmboost test") } == true)

    // WebP and TIFF in; WebP and TIFF out when asked.
    #expect(try output("web.png").width == 2 * w && output("scan.png").height == 2 * h)
    for format in [ImageFormat.webp, .tiff] {
      let formatted = dir.appendingPathComponent("out-\(format)").path
      let converted = try CommandRunner.fmboost(["upsample", path("web.webp"), path("scan.tif"), "-o", formatted, "--format", format.rawValue])
      #expect(converted.status == 0, "\(converted.error)")
      for name in ["web", "scan"] {
        let written = "\(formatted)/\(name).\(format.fileExtension)"
        #expect(try ImageHeader.read(written) == ImageHeader(format: format, width: 2 * w, height: 2 * h))
      }
    }
  }
}
