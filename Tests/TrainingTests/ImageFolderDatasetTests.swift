import Foundation
import Imaging
import TestSupport
import Testing
import Torch
import Training

@Suite struct ImageFolderDatasetTests {
  @Test func everyBadImageIsReportedWhenTheDatasetOpens() throws {
    let dir = try temporaryDirectory("bad-images")
    defer { try? FileManager.default.removeItem(at: dir) }
    for name in ["chelsea.png", "coffee.png"] {
      try FileManager.default.copyItem(atPath: Shared.photo(name), toPath: dir.appendingPathComponent(name).path)
    }
    let png = try Data(contentsOf: URL(fileURLWithPath: Shared.photo("chelsea.png")))
    try png.prefix(20).write(to: dir.appendingPathComponent("truncated.png"))
    try Data("not an image".utf8).write(to: dir.appendingPathComponent("text.jpg"))
    try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]).write(to: dir.appendingPathComponent("header-only.jpg"))
    #expect {
      _ = try ImageFolderDataset(folder: dir.path, split: .train, validationFraction: 0, size: 32, flip: false, seed: 0)
    } throws: { error in
      let text = "\(error)"
      return text.contains("3 of 5 images cannot be used") && text.contains("truncated.png: PNG without a complete IHDR")
        && text.contains("text.jpg: not a PNG, JPEG, WebP or TIFF") && text.contains("header-only.jpg")
    }
  }

  @Test func headersGiveTheDecodedSize() throws {
    for name in ["chelsea.png", "coffee.png"] {
      let header = try ImageHeader.read(Shared.photo(name))
      let image = try ImageFile.read(Shared.photo(name))
      #expect(header.format == .png && [3, header.height, header.width] == image.shape)
    }
    let dir = try temporaryDirectory("jpeg-header")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("x.jpg").path
    try ImageFile.write(Tensor.rand([3, 21, 34]), to: path)
    #expect(try ImageHeader.read(path) == ImageHeader(format: .jpeg, width: 34, height: 21))
    // A JPEG whose frame header lies past large APP segments (EXIF, ICC: 3 × 64 KB) is still read.
    let jpeg = try Data(contentsOf: URL(fileURLWithPath: path))
    var padded = Data(jpeg.prefix(2))
    for _ in 0..<3 { padded += Data([0xFF, 0xE1, 0xFF, 0xFF]) + Data(repeating: 0x20, count: 0xFFFD) }
    padded += jpeg.dropFirst(2)
    let big = dir.appendingPathComponent("exif.jpg").path
    try padded.write(to: URL(fileURLWithPath: big))
    #expect(try ImageHeader.read(big) == ImageHeader(format: .jpeg, width: 34, height: 21))
    #expect(try ImageFile.read(big).shape == [3, 21, 34])
  }

  @Test func theDecodedImageCacheStaysWithinItsByteLimit() throws {
    // Decoded images are held as 8-bit values: 3 bytes a pixel.
    let oneImage = 3 * 512 * 512
    let dataset = try ImageFolderDataset(folder: Shared.photo(""), split: .train, validationFraction: 0, size: 32, flip: false, seed: 0,
                                         cacheLimit: oneImage * 2)
    #expect(dataset.files.count > 3)
    for k in 0..<(3 * dataset.files.count) { _ = try dataset.sample(k) }
    #expect(dataset.cachedBytes > 0 && dataset.cachedBytes <= oneImage * 2)
  }

  @Test func rotationsGiveAllEightOrientations() throws {
    let dir = try temporaryDirectory("rot90")
    defer { try? FileManager.default.removeItem(at: dir) }
    try ImageFile.write(Tensor.rand([3, 8, 8], generator: Generator(seed: 3)), to: dir.appendingPathComponent("a.png").path)
    // An 8 px crop of an 8 px image is the whole image, in some orientation.
    let plain = try ImageFolderDataset(folder: dir.path, split: .train, validationFraction: 0, size: 8, flip: false, seed: 0).sample(0)
    let flips = try [plain, plain.flip([2]), plain.flip([1]), plain.flip([1, 2])]
    let orientations = try flips + flips.map { try $0.transpose(1, 2) }
    func seen(rot90: Bool) throws -> Set<Int> {
      let dataset = try ImageFolderDataset(folder: dir.path, split: .train, validationFraction: 0, size: 8, flip: true, rot90: rot90, seed: 0)
      let found = try (0..<64).map { k in
        let crop = try dataset.sample(k)
        return try #require(try orientations.firstIndex { try ($0 - crop).abs().max().item() == 0 })
      }
      return Set(found)
    }
    #expect(try seen(rot90: false) == [0, 1])
    let all = try seen(rot90: true)
    #expect(all.count == 8, "\(all.sorted())")
  }

  /// `crop_candidates`: each crop is the most detailed of N random ones (the first candidate is
  /// the uniform crop of the same sample, so detail never drops).
  @Test func cropCandidatesPreferDetailedCrops() throws {
    let dir = try temporaryDirectory("crop-candidates")
    defer { try? FileManager.default.removeItem(at: dir) }
    // Left half flat grey, right half noise.
    let noise = try Tensor.rand([3, 32, 32], generator: Generator(seed: 5))
    try ImageFile.write(Tensor.cat([Tensor.full([3, 32, 32], 0.5), noise], dim: 2), to: dir.appendingPathComponent("half.png").path)
    func details(_ candidates: Int) throws -> [Double] {
      let dataset = try ImageFolderDataset(folder: dir.path, split: .train, validationFraction: 0, size: 12, flip: true, seed: 1, cropCandidates: candidates)
      return try (0..<40).map { k in
        let c = try dataset.sample(k)
        let dy = try c.narrow(dim: 1, start: 1, length: 11) - c.narrow(dim: 1, start: 0, length: 11)
        let dx = try c.narrow(dim: 2, start: 1, length: 11) - c.narrow(dim: 2, start: 0, length: 11)
        return try (dy * dy).mean().item() + (dx * dx).mean().item()
      }
    }
    let (uniform, chosen) = (try details(1), try details(4))
    #expect(zip(uniform, chosen).allSatisfy { $1 >= $0 * (1 - 1e-6) }, "\(zip(uniform, chosen).filter { $1 < $0 * (1 - 1e-6) })")
    let flat = { (d: [Double]) in d.filter { $0 < 1e-6 }.count }
    #expect(flat(uniform) >= 8 && flat(chosen) <= 1, "flat crops: \(flat(uniform)) uniform, \(flat(chosen)) with 4 candidates")
  }
}
