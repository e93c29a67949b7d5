import CImaging
import Checkpoint
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

/// PNG and JPEG files to and from (3, H, W) float32 tensors.
public enum ImageFile {
  /// Images with more pixels than this are refused before any pixel buffer is allocated.
  public static let maxPixels: UInt64 = 1 << 28

  /// Reads a PNG or JPEG (format from its signature) into a (3, H, W) float32 tensor. Grayscale is
  /// replicated to RGB, alpha dropped, 16-bit PNG samples kept at full precision.
  public static func read(_ path: String, range: PixelRange = .unit) throws -> Tensor {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
      throw ImageError(file: path, reason: "cannot read the file (\((error as NSError).localizedDescription))")
    }
    return try decode(data, name: path, range: range)
  }

  /// Decodes PNG or JPEG bytes; `name` is used in error messages.
  public static func decode(_ data: Data, name: String, range: PixelRange = .unit) throws -> Tensor {
    var image = ci_image()
    var message = [CChar](repeating: 0, count: 512)
    let status = data.withUnsafeBytes { raw in
      ci_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, maxPixels, &image, &message, message.count)
    }
    guard status == 0 else {
      let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
      throw ImageError(file: name, reason: text)
    }
    defer { ci_image_free(&image) }
    let height = Int(image.height), width = Int(image.width)
    let count = height * width * 3
    let hwc: Tensor
    if image.bit_depth == 16 {
      let buffer = UnsafeRawBufferPointer(start: image.pixels, count: count * 2)
      // int16 storage reinterpreted, then widened: uint16 has no libtorch dtype.
      let raw = try Tensor(bytes: buffer, shape: [height, width, 3], dtype: .int16).to(.int32)
      let unsigned = try raw + Tensor.where(raw.lt(0), Tensor(scalar: Int32(65536)), Tensor(scalar: Int32(0)))
      hwc = try unsigned.to(.float32) / 65535
    } else {
      let buffer = UnsafeRawBufferPointer(start: image.pixels, count: count)
      hwc = try Tensor(bytes: buffer, shape: [height, width, 3], dtype: .uint8).to(.float32) / 255
    }
    let chw = try hwc.permute([2, 0, 1]).contiguous()
    return range == .unit ? chw : try chw * 2 - 1
  }

  /// Writes a (3, H, W) or (1, 3, H, W) tensor as PNG or JPEG (by the extension; PNG otherwise),
  /// clamping to the range and rounding to 8 bits. The write is atomic.
  /// `text`: PNG text chunks (key, value), such as SD tools' `parameters`.
  public static func write(_ tensor: Tensor, to path: String, range: PixelRange = .unit, jpegQuality: Int = 95,
                           text: [(key: String, value: String)] = []) throws {
    let jpeg = isJPEGPath(path)
    let bytes = try encode(tensor, name: path, range: range, jpeg: jpeg, jpegQuality: jpegQuality)
    do {
      try AtomicFile.write(Data(jpeg ? bytes : PNGText.insert(text, into: bytes)), to: URL(fileURLWithPath: path))
    } catch let error as CheckpointError {
      throw ImageError(file: path, reason: error.reason)
    }
  }

  /// The text chunks of a PNG file, by key.
  public static func pngText(_ path: String) throws -> [String: String] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ImageError(file: path, reason: "cannot read the file") }
    return PNGText.read(Array(data))
  }

  public static func isJPEGPath(_ path: String) -> Bool {
    let lower = path.lowercased()
    return lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
  }

  /// The encoded file bytes of a (3, H, W) or (1, 3, H, W) tensor.
  public static func encode(_ tensor: Tensor, name: String, range: PixelRange, jpeg: Bool, jpegQuality: Int = 95) throws -> [UInt8] {
    var t = tensor
    if t.rank == 4 && t.size(0) == 1 { t = try t.squeeze(dim: 0) }
    guard t.rank == 3, t.size(0) == 3 else {
      throw ImageError(file: name, reason: "expected a (3, H, W) image tensor, got shape \(tensor.shape)")
    }
    let height = t.size(1), width = t.size(2)
    let unit = range == .unit ? t : try (t + 1) / 2
    let pixels = try (unit.to(.float32).clamp(min: 0, max: 1) * 255).round().to(.uint8).permute([1, 2, 0]).toArray(UInt8.self)
    var out: UnsafeMutablePointer<UInt8>?
    var size = 0
    var message = [CChar](repeating: 0, count: 512)
    let status = pixels.withUnsafeBufferPointer { p in
      jpeg
        ? ci_encode_jpeg(p.baseAddress, Int32(width), Int32(height), Int32(jpegQuality), &out, &size, &message, message.count)
        : ci_encode_png(p.baseAddress, Int32(width), Int32(height), &out, &size, &message, message.count)
    }
    guard status == 0, let buffer = out else {
      throw ImageError(file: name, reason: message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }
    defer { ci_buffer_free(buffer) }
    return Array(UnsafeBufferPointer(start: buffer, count: size))
  }
}
