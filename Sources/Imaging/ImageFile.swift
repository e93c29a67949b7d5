import Checkpoint
import CImaging
import FileSupport
import Foundation
import Torch

/// An image file could not be read or written; the description names the file.
public struct ImageError: Error, CustomStringConvertible, Equatable {
  public let file: String
  public let reason: String
  public var description: String { "\(file): \(reason)" }

  public init(file: String, reason: String) {
    self.file = file
    self.reason = reason
  }
}

/// The value range of an image tensor.
public enum PixelRange: Sendable {
  /// [0, 1], as TAESD-family autoencoders expect.
  case unit
  /// [-1, 1], as the SD autoencoder and FMBoost's batches expect.
  case symmetric
}

/// PNG, JPEG, WebP and TIFF files to and from tensors, through libvips.
public enum ImageFile {
  /// Images with more pixels than this are refused before any pixel buffer is allocated.
  public static let maxPixels: UInt64 = 1 << 28

  /// Reads an image file (format from its signature) as displayed: EXIF orientation applied,
  /// alpha, grey, bit depth, ICC profile and EXIF block kept.
  public static func load(_ path: String) throws -> Picture {
    try decodePicture(try contents(path), name: path)
  }

  /// Reads an image file into a (3, H, W) float32 tensor: oriented as displayed, grey replicated to
  /// RGB, alpha dropped, 16-bit samples kept at full precision.
  public static func read(_ path: String, range: PixelRange = .unit) throws -> Tensor {
    try decode(try contents(path), name: path, range: range)
  }

  /// Decodes image bytes; `name` is used in error messages.
  public static func decodePicture(_ data: Data, name: String) throws -> Picture {
    var image = ci_image()
    var message = [CChar](repeating: 0, count: 512)
    // PNG and JPEG headers are checked from their bytes first, with this project's messages.
    if let format = ImageFormat(sniffing: data), format == .png || format == .jpeg {
      _ = try ImageHeader.parse(name: name, data: data).checked(name: name)
    }
    let status = data.withUnsafeBytes { raw in
      ci_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, maxPixels, &image, &message, message.count)
    }
    guard status == 0 else { throw ImageError(file: name, reason: String(cMessage: message)) }
    defer { ci_image_free(&image) }
    return try Picture(image)
  }

  /// Decodes image bytes into a (3, H, W) tensor in `range`.
  public static func decode(_ data: Data, name: String, range: PixelRange = .unit) throws -> Tensor {
    let color = try decodePicture(data, name: name).color
    return range == .unit ? color : try color * 2 - 1
  }

  /// Writes a picture in `format` (default: by the path's extension, PNG otherwise) at its bit
  /// depth where the format has it, with its alpha where the format has it, and its metadata. The
  /// write is atomic. `text`: PNG text chunks (key, value), such as SD tools' `parameters`.
  public static func save(_ picture: Picture, to path: String, format: ImageFormat? = nil, quality: Int = 95,
                          text: [(key: String, value: String)] = []) throws {
    let format = format ?? ImageFormat(path: path) ?? .png
    var bytes = try encode(picture, name: path, format: format, quality: quality)
    if format == .png { bytes = PNGText.insert(text, into: bytes) }
    do {
      try AtomicFile.write(Data(bytes), to: URL(fileURLWithPath: path))
    } catch let error as CheckpointError {
      throw ImageError(file: path, reason: error.reason)
    }
  }

  /// Writes a (3, H, W) or (1, 3, H, W) tensor as an 8-bit RGB image (format by the extension; PNG
  /// otherwise), clamped to the range. The write is atomic.
  public static func write(_ tensor: Tensor, to path: String, range: PixelRange = .unit, jpegQuality: Int = 95,
                           text: [(key: String, value: String)] = []) throws {
    try save(try picture(tensor, name: path, range: range), to: path, quality: jpegQuality, text: text)
  }

  /// The encoded file bytes of a (3, H, W) or (1, 3, H, W) tensor as 8-bit RGB.
  public static func encode(_ tensor: Tensor, name: String, range: PixelRange, jpeg: Bool, jpegQuality: Int = 95) throws -> [UInt8] {
    try encode(try picture(tensor, name: name, range: range), name: name, format: jpeg ? .jpeg : .png, quality: jpegQuality)
  }

  /// The encoded file bytes of a picture.
  public static func encode(_ picture: Picture, name: String, format: ImageFormat, quality: Int = 95) throws -> [UInt8] {
    let depth = format.keeps16Bit && picture.bitDepth == 16 ? 16 : 8
    let (pixels, channels) = try picture.interleaved(bitDepth: depth, withAlpha: format.keepsAlpha)
    var out: UnsafeMutablePointer<UInt8>?
    var size = 0
    var message = [CChar](repeating: 0, count: 512)
    let status = pixels.withUnsafeBytes { raw -> Int32 in
      let icc = picture.metadata.iccProfile ?? [], exif = picture.metadata.exif ?? []
      return icc.withUnsafeBufferPointer { iccBytes in
        exif.withUnsafeBufferPointer { exifBytes in
          var image = ci_image()
          image.pixels = UnsafeMutableRawPointer(mutating: raw.baseAddress)
          image.width = Int32(picture.width)
          image.height = Int32(picture.height)
          image.channels = Int32(channels)
          image.bit_depth = Int32(depth)
          image.icc = UnsafeMutablePointer(mutating: iccBytes.baseAddress)
          image.icc_size = iccBytes.count
          image.exif = UnsafeMutablePointer(mutating: exifBytes.baseAddress)
          image.exif_size = exifBytes.count
          return ci_encode(&image, format.code, Int32(quality), &out, &size, &message, message.count)
        }
      }
    }
    guard status == 0, let buffer = out else { throw ImageError(file: name, reason: String(cMessage: message)) }
    defer { ci_buffer_free(buffer) }
    return Array(UnsafeBufferPointer(start: buffer, count: size))
  }

  /// The text chunks of a PNG file, by key.
  public static func pngText(_ path: String) throws -> [String: String] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ImageError(file: path, reason: "cannot read the file") }
    return PNGText.read(Array(data))
  }

  public static func isJPEGPath(_ path: String) -> Bool { ImageFormat(path: path) == .jpeg }

  static func picture(_ tensor: Tensor, name: String, range: PixelRange) throws -> Picture {
    var t = tensor
    if t.rank == 4 && t.size(0) == 1 { t = try t.squeeze(dim: 0) }
    guard t.rank == 3, t.size(0) == 3 else {
      throw ImageError(file: name, reason: "expected a (3, H, W) image tensor, got shape \(tensor.shape)")
    }
    return Picture(color: range == .unit ? t : try (t + 1) / 2)
  }

  static func contents(_ path: String) throws -> Data {
    do {
      return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
      throw ImageError(file: path, reason: "cannot read the file (\((error as NSError).localizedDescription))")
    }
  }
}

extension String {
  /// A C library's NUL-terminated message from its buffer.
  init(cMessage buffer: [CChar]) {
    self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
