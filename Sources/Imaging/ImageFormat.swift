import CImaging
import Foundation

/// The file formats read and written (through libvips).
public enum ImageFormat: String, CaseIterable, Sendable {
  case png, jpeg, webp, tiff

  /// The format a file name asks for by its extension, if any.
  public init?(path: String) {
    let dot = path.lastIndex(of: "."), slash = path.lastIndex(of: "/")
    guard let dot, slash.map({ $0 < dot }) ?? true, let format = Self.byExtension[path[path.index(after: dot)...].lowercased()] else {
      return nil
    }
    self = format
  }

  /// The format of image bytes from their signature (not their name), if one of these.
  public init?(sniffing data: Data) {
    let head = [UInt8](data.prefix(12))
    self.init(code: ci_sniff(head, head.count))
  }

  static let byExtension: [String: ImageFormat] = ["png": .png, "jpg": .jpeg, "jpeg": .jpeg, "webp": .webp, "tif": .tiff, "tiff": .tiff]

  /// The extension written for it.
  public var fileExtension: String { self == .jpeg ? "jpg" : self == .tiff ? "tif" : rawValue }

  /// The extensions read as images, lower case.
  public static let readableExtensions = Set(byExtension.keys)

  /// PNG and TIFF keep 16-bit samples; JPEG and WebP are written at 8 bits.
  public var keeps16Bit: Bool { self == .png || self == .tiff }
  /// Every format but JPEG keeps an alpha channel.
  public var keepsAlpha: Bool { self != .jpeg }

  var code: Int32 {
    switch self {
    case .png: Int32(CI_FORMAT_PNG)
    case .jpeg: Int32(CI_FORMAT_JPEG)
    case .webp: Int32(CI_FORMAT_WEBP)
    case .tiff: Int32(CI_FORMAT_TIFF)
    }
  }

  init?(code: Int32) {
    guard let format = Self.allCases.first(where: { $0.code == code }) else { return nil }
    self = format
  }
}
