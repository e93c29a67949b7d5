import Checkpoint
import Foundation
import Imaging
import Torch

/// Inception features of every image (PNG, JPEG, WebP, TIFF) below a folder, cached: a safetensors file per folder
/// holds each file's row keyed by its relative path, size and modification time, so a second run
/// computes only what changed.
public struct FolderFeatures {
  public let network: FIDInception
  /// Identifies the network file in cache keys (its path, size and time).
  public let networkIdentity: String
  /// Where cache files go (nil: no cache).
  public let cacheDirectory: URL?
  public var batchSize = 16

  public init(network: FIDInception, networkPath: String, cacheDirectory: URL? = FolderFeatures.defaultCacheDirectory) {
    self.network = network
    networkIdentity = Self.identity(of: networkPath) ?? networkPath
    self.cacheDirectory = cacheDirectory
  }

  /// `$XDG_CACHE_HOME/fmboost/fid`, else `~/.cache/fmboost/fid`.
  public static var defaultCacheDirectory: URL? {
    let environment = ProcessInfo.processInfo.environment
    if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("fmboost/fid") }
    guard let home = environment["HOME"], !home.isEmpty else { return nil }
    return URL(fileURLWithPath: home).appendingPathComponent(".cache/fmboost/fid")
  }

  /// The sorted relative paths of the images below `folder`.
  public static func images(in folder: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw ImageError(file: folder, reason: "not a folder")
    }
    return ImageFile.relativePaths(below: folder)
  }

  static func identity(of path: String) -> String? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
      let size = attributes[.size] as? Int, let date = attributes[.modificationDate] as? Date
    else { return nil }
    return "\(size)\t\(date.timeIntervalSince1970)"
  }

  /// Features (N, 2048) of the folder's images in sorted order; `progress(done, total)`.
  public func features(of folder: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> Tensor {
    let files = try Self.images(in: folder)
    guard files.count >= 2 else { throw ImageError(file: folder, reason: "FID needs at least 2 images, found \(files.count)") }
    let keys = files.map { file in "\(file)\t\(Self.identity(of: (folder as NSString).appendingPathComponent(file)) ?? "?")" }
    let cacheFile = cacheDirectory.map { $0.appendingPathComponent(Self.cacheName(folder: folder, network: networkIdentity)) }
    var cached: [String: Tensor] = [:]
    if let cacheFile, let file = try? SafeTensorsFile(path: cacheFile.path), let rows = try? file.tensor("features"),
      let listed = file.metadata["files"]?.components(separatedBy: "\n"), listed.count == rows.size(0)
    {
      for (i, key) in listed.enumerated() { cached[key] = try rows.select(dim: 0, index: i) }
    }
    var rows = [Tensor?](repeating: nil, count: files.count)
    var missing: [Int] = []
    for (i, key) in keys.enumerated() {
      if let row = cached[key] { rows[i] = row } else { missing.append(i) }
    }
    progress(files.count - missing.count, files.count)
    for start in stride(from: 0, to: missing.count, by: batchSize) {
      let batch = Array(missing[start..<min(missing.count, start + batchSize)])
      let inputs = try batch.map { i -> Tensor in
        let image = try ImageFile.read((folder as NSString).appendingPathComponent(files[i]), range: .unit) * 255
        return try FIDInception.preprocess(image.unsqueeze(dim: 0))
      }
      let out = try network.features(Tensor.cat(inputs, dim: 0))
      for (j, i) in batch.enumerated() { rows[i] = try out.select(dim: 0, index: j) }
      progress(files.count - missing.count + min(missing.count, start + batchSize), files.count)
    }
    let features = try Tensor.stack(rows.map { $0! })
    if let cacheFile, !missing.isEmpty {
      // A cache that cannot be written only costs time next run.
      try? FileManager.default.createDirectory(at: cacheFile.deletingLastPathComponent(), withIntermediateDirectories: true)
      try? SafeTensors.write([("features", features.contiguous())], metadata: ["files": keys.joined(separator: "\n"), "folder": folder], to: cacheFile)
    }
    return features
  }

  static func cacheName(folder: String, network: String) -> String {
    let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in (absolute + "\n" + network).utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return String(format: "%016llx.safetensors", h)
  }
}
