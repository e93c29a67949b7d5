import Foundation
import Imaging
import TestSupport
import Testing
import Torch

@Suite struct ImageFileTests {
  /// A smooth RGB test picture (gradients plus a soft blob), values in [0, 1].
  static func picture(height: Int = 48, width: Int = 64) throws -> Tensor {
    let y = try Tensor.linspace(0, 1, steps: height).reshape([1, height, 1]).expand([1, height, width])
    let x = try Tensor.linspace(0, 1, steps: width).reshape([1, 1, width]).expand([1, height, width])
    let blob = try ((x - 0.5).square() + (y - 0.4).square()).neg().mul(12).exp()
    return try Tensor.cat([x, y, blob], dim: 0).contiguous()
  }

  @Test func pngRoundTripIsExactAt8Bits() throws {
    let dir = try temporaryDirectory("png")
    defer { try? FileManager.default.removeItem(at: dir) }
    let image = try (Self.picture() * 255).round() / 255
    let path = dir.appendingPathComponent("a.png").path
    try ImageFile.write(image, to: path)
    let back = try ImageFile.read(path)
    #expect(back.shape == [3, 48, 64])
    #expect(try back.maxAbsDifference(image) < 1e-6)
    // [-1, 1] range both ways.
    let symmetric = try ImageFile.read(path, range: .symmetric)
    #expect(try symmetric.maxAbsDifference(image * 2 - 1) < 1e-6)
    try ImageFile.write(symmetric.unsqueeze(dim: 0), to: path, range: .symmetric)
    #expect(try ImageFile.read(path).maxAbsDifference(image) < 1e-6)
  }

  @Test func jpegRoundTripIsClose() throws {
    let dir = try temporaryDirectory("jpg")
    defer { try? FileManager.default.removeItem(at: dir) }
    let image = try Self.picture()
    let path = dir.appendingPathComponent("a.jpg").path
    try ImageFile.write(image, to: path, jpegQuality: 95)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(bytes.prefix(3) == Data([0xFF, 0xD8, 0xFF]))
    let back = try ImageFile.read(path)
    #expect(back.shape == [3, 48, 64])
    let meanError = try (back - image).abs().mean().item()
    #expect(meanError < 2.0 / 255, "mean abs error \(meanError)")
  }

  @Test func grayscaleRGBAPaletteAnd16BitPNGsBecomeRGB() throws {
    let (w, h) = (4, 2)
    let grayRows: [[UInt8]] = (0..<h).map { r in (0..<w).map { UInt8(r * 100 + $0 * 40) } }
    let gray = try ImageFile.decode(MinimalPNG.make(width: w, height: h, bitDepth: 8, colorType: 0, rows: grayRows), name: "gray.png")
    #expect(gray.shape == [3, 2, 4])
    #expect(try gray.select(dim: 0, index: 0).equal(gray.select(dim: 0, index: 2)))
    #expect(abs(try gray[0][1][3].item() - 220.0 / 255) < 1e-6)

    let rgbaRows: [[UInt8]] = (0..<h).map { _ in (0..<w).flatMap { i -> [UInt8] in [UInt8(i * 60), 10, 20, 0] } }  // fully transparent
    let rgba = try ImageFile.decode(MinimalPNG.make(width: w, height: h, bitDepth: 8, colorType: 6, rows: rgbaRows), name: "rgba.png")
    #expect(rgba.shape == [3, 2, 4])
    #expect(abs(try rgba[0][0][2].item() - 120.0 / 255) < 1e-6)  // colour kept, alpha dropped

    let paletteRows = (0..<h).map { _ in [UInt8(0b0001_1011)] }  // 2-bit indices 0,1,2,3
    let palette = try ImageFile.decode(
      MinimalPNG.make(width: w, height: h, bitDepth: 2, colorType: 3, rows: paletteRows,
                      palette: [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]), name: "palette.png")
    #expect(try palette[2][0].toArray(Float.self) == [0, 0, 1, 9.0 / 255])

    // 16-bit RGB: samples above 32767 too (uint16 has no libtorch dtype of its own).
    let sixteenRows: [[UInt8]] = (0..<h).map { _ in (0..<w).flatMap { i -> [UInt8] in
      let v = UInt16(i * 20_000 + 1)
      return [UInt8(v >> 8), UInt8(v & 0xFF), 0, 0, 0xFF, 0xFF]
    } }
    let deep = try ImageFile.decode(MinimalPNG.make(width: w, height: h, bitDepth: 16, colorType: 2, rows: sixteenRows), name: "deep.png")
    #expect(try deep[0][0].toArray(Float.self).map { ($0 * 65535).rounded() } == [1, 20_001, 40_001, 60_001])
    #expect(try deep[2].min().item() == 1)

    let gray16Rows: [[UInt8]] = (0..<h).map { _ in (0..<w).flatMap { _ -> [UInt8] in [0x80, 0x00] } }
    let gray16 = try ImageFile.decode(MinimalPNG.make(width: w, height: h, bitDepth: 16, colorType: 0, rows: gray16Rows), name: "g16.png")
    #expect(abs(try gray16.mean().item() - 32768.0 / 65535) < 1e-6)
  }

  @Test func corruptFilesGiveClearErrorsNamingTheFile() throws {
    let dir = try temporaryDirectory("corrupt")
    defer { try? FileManager.default.removeItem(at: dir) }
    let good = dir.appendingPathComponent("good.png").path
    let goodJPEG = dir.appendingPathComponent("good.jpg").path
    try ImageFile.write(Self.picture(), to: good)
    try ImageFile.write(Self.picture(), to: goodJPEG)
    let png = try Data(contentsOf: URL(fileURLWithPath: good))
    let jpeg = try Data(contentsOf: URL(fileURLWithPath: goodJPEG))
    var badCRC = png
    badCRC[20] ^= 0xFF  // inside IHDR: its CRC no longer matches
    let cases: [(String, Data, String)] = [
      ("truncated.png", png.prefix(png.count / 2), "PNG"),
      ("truncated.jpg", jpeg.prefix(jpeg.count / 2), "JPEG"),
      ("header-only.jpg", jpeg.prefix(4), "JPEG"),
      ("bad-crc.png", badCRC, "CRC"),
      ("notes.png", Data("this is not an image".utf8), "not a PNG, JPEG, WebP or TIFF"),
      ("empty.jpg", Data(), "empty"),
      ("random.jpg", Data([0xFF, 0xD8, 0xFF] + (0..<500).map { UInt8(($0 * 7919) % 251) }), "JPEG"),
    ]
    for (name, bytes, fragment) in cases {
      let path = dir.appendingPathComponent(name).path
      try bytes.write(to: URL(fileURLWithPath: path))
      do {
        _ = try ImageFile.read(path)
        Issue.record("\(name) was accepted")
      } catch let error as ImageError {
        #expect(error.file == path)
        #expect(error.description.contains(fragment), "\(name): \(error)")
      }
    }
    #expect(throws: ImageError.self) { try ImageFile.read(dir.appendingPathComponent("missing.png").path) }
  }

  @Test func oversizedImagesAreRefusedBeforeAllocating() throws {
    // A PNG header claiming 100,000 x 100,000 pixels (10^10 > the limit).
    let png = MinimalPNG.make(width: 100_000, height: 100_000, bitDepth: 8, colorType: 2, rows: [])
    #expect {
      _ = try ImageFile.decode(png, name: "huge.png")
    } throws: { error in
      (error as? ImageError)?.reason.contains("pixel limit") == true
    }
  }

  @Test func writeRejectsNonImageShapes() throws {
    #expect(throws: ImageError.self) { try ImageFile.write(Tensor.zeros([2, 4, 4]), to: "/tmp/never.png") }
  }
}

extension Tensor {
  func mul(_ s: Double) throws -> Tensor { try self * s }
  func neg() throws -> Tensor { try -self }
}
