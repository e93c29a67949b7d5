import Foundation

extension ImageFile {
  /// The extensions read as images (PNG, JPEG, WebP, TIFF), lower case.
  public static let extensions: Set<String> = ImageFormat.readableExtensions

  /// The images below `folder` (recursive), as sorted paths relative to it.
  public static func relativePaths(below folder: String) -> [String] {
    var found: [String] = []
    let enumerator = FileManager.default.enumerator(atPath: folder)
    while let item = enumerator?.nextObject() as? String {
      if extensions.contains((item as NSString).pathExtension.lowercased()) { found.append(item) }
    }
    return found.sorted()
  }
}
