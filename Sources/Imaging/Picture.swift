import CImaging
import Torch

/// What an image file carries besides its pixels, written back unchanged: the ICC profile (the
/// pixels' colour space) and the EXIF block (whose orientation is then 1: the pixels are upright).
public struct ImageMetadata: Sendable, Equatable {
  public var iccProfile: [UInt8]?
  public var exif: [UInt8]?

  public init(iccProfile: [UInt8]? = nil, exif: [UInt8]? = nil) {
    self.iccProfile = iccProfile
    self.exif = exif
  }
}

/// An image as a viewer displays it (EXIF orientation applied), with what a faithful output keeps.
public struct Picture {
  /// (3, H, W) float32 in [0, 1]; grey images have three equal channels.
  public var color: Tensor
  /// (1, H, W) float32 in [0, 1], straight (not premultiplied), when the file has an alpha channel.
  public var alpha: Tensor?
  /// The file is greyscale: written back as one channel (the mean of `color`'s three).
  public var isGrey: Bool
  /// 8 or 16 bits per sample.
  public var bitDepth: Int
  public var metadata: ImageMetadata

  public init(color: Tensor, alpha: Tensor? = nil, isGrey: Bool = false, bitDepth: Int = 8, metadata: ImageMetadata = ImageMetadata()) {
    self.color = color
    self.alpha = alpha
    self.isGrey = isGrey
    self.bitDepth = bitDepth
    self.metadata = metadata
  }

  public var width: Int { color.size(2) }
  public var height: Int { color.size(1) }

  /// From interleaved 8- or 16-bit samples.
  init(_ image: ci_image) throws {
    let (height, width, channels) = (Int(image.height), Int(image.width), Int(image.channels))
    let count = height * width * channels
    let hwc: Tensor
    if image.bit_depth == 16 {
      // int16 storage reinterpreted, then widened: uint16 has no libtorch dtype.
      let raw = try Tensor(bytes: UnsafeRawBufferPointer(start: image.pixels, count: count * 2), shape: [height, width, channels], dtype: .int16)
        .to(.int32)
      hwc = try (raw + Tensor.where(raw.lt(0), Tensor(scalar: Int32(65536)), Tensor(scalar: Int32(0)))).to(.float32) / 65535
    } else {
      hwc = try Tensor(bytes: UnsafeRawBufferPointer(start: image.pixels, count: count), shape: [height, width, channels], dtype: .uint8)
        .to(.float32) / 255
    }
    let planes = try hwc.permute([2, 0, 1])
    let colors = channels <= 2 ? 1 : 3
    let color = try planes.narrow(dim: 0, start: 0, length: colors).contiguous()
    self.color = colors == 1 ? try color.expand([3, height, width]).contiguous() : color
    alpha = channels % 2 == 0 ? try planes.narrow(dim: 0, start: colors, length: 1).contiguous() : nil
    isGrey = colors == 1
    bitDepth = Int(image.bit_depth)
    metadata = ImageMetadata(iccProfile: Self.bytes(image.icc, image.icc_size), exif: Self.bytes(image.exif, image.exif_size))
  }

  static func bytes(_ pointer: UnsafeMutablePointer<UInt8>?, _ count: Int) -> [UInt8]? {
    pointer.map { Array(UnsafeBufferPointer(start: $0, count: count)) }
  }

  /// Interleaved samples (H, W, C) at `bitDepth` bits: the colour planes (or their mean for grey),
  /// then alpha where `withAlpha`; clamped to [0, 1] and rounded. Converted in bands of rows, so
  /// that no full-size float copy of a large image is made.
  func interleaved(bitDepth: Int, withAlpha: Bool) throws -> (bytes: [UInt8], channels: Int) {
    let channels = (isGrey ? 1 : 3) + (withAlpha && alpha != nil ? 1 : 0)
    let rowSamples = width * channels, bytesPerSample = bitDepth == 16 ? 2 : 1
    var bytes = [UInt8](repeating: 0, count: height * rowSamples * bytesPerSample)
    let band = max(1, (1 << 22) / max(1, rowSamples))
    for top in stride(from: 0, to: height, by: band) {
      let rows = min(band, height - top)
      var planes = [try color.narrow(dim: 1, start: top, length: rows).to(.float32)]
      if isGrey { planes = [try planes[0].mean(dim: 0, keepDim: true)] }
      if withAlpha, let alpha { planes.append(try alpha.narrow(dim: 1, start: top, length: rows).to(.float32)) }
      let unit = try Tensor.cat(planes, dim: 0).clamp(min: 0, max: 1).permute([1, 2, 0])
      let offset = top * rowSamples * bytesPerSample
      if bitDepth == 16 {
        // Offset into int16's range for libtorch, and back by flipping the top bit of each sample.
        let samples = try ((unit * 65535).round() - 32768).to(.int16).contiguous().toArray(Int16.self)
        bytes.withUnsafeMutableBytes { raw in
          let out = UnsafeMutableRawBufferPointer(rebasing: raw[offset...]).bindMemory(to: UInt16.self)
          for (i, s) in samples.enumerated() { out[i] = UInt16(bitPattern: s) ^ 0x8000 }
        }
      } else {
        let samples = try (unit * 255).round().to(.uint8).contiguous().toArray(UInt8.self)
        bytes.replaceSubrange(offset..<offset + samples.count, with: samples)
      }
    }
    return (bytes, channels)
  }
}
