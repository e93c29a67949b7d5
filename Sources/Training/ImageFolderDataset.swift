import Evaluation
import Foundation
import Imaging
import Torch

/// Training images from a folder (PNG, JPEG, WebP, TIFF, recursive; any size and colour mode), as square crops
/// of `size` pixels in [−1, 1] — the `image` entry of the original's batch contract.
///
/// Every draw is a pure function of (seed, sample number), so a resumed run sees exactly the batches
/// an uninterrupted one would: sample k of the stream is image perm_e[k mod n] of epoch e = k / n,
/// with a crop and flip drawn from a generator seeded by k.
public final class ImageFolderDataset {
  public enum Split: Sendable { case train, validation }

  public let files: [String]
  public let size: Int
  let flip: Bool
  /// With `flip`, the whole dihedral group: transposes and vertical flips too (8 orientations).
  let rot90: Bool
  let seed: UInt64
  /// Decoded images kept for later samples, oldest first out once `cacheLimit` bytes are held.
  private var cache: [Int: Tensor] = [:]
  private var cacheOrder: [Int] = []
  private var cacheBytes = 0
  let cacheLimit: Int
  private var order = EpochOrder()
  /// Guards the cache and the epoch order: batches are prepared on several threads.
  private let lock = NSLock()
  public static let defaultCacheLimit = 2 << 30

  let maxShortSide: Int?
  /// Crops drawn per sample; the one with the most detail (gradient energy) is kept. 1: uniform crops.
  let cropCandidates: Int

  /// A folder with `train/` and `validation/` subfolders is split by them; any other folder by a
  /// hash of each image's relative path (stable across machines and file-system order, never the
  /// same image on both sides).
  /// Every file's header is checked here, and all bad files are reported in one error.
  public init(
    folder: String, split: Split, validationFraction: Double, size: Int, flip: Bool, rot90: Bool = false, seed: UInt64, maxShortSide: Int? = nil,
    cropCandidates: Int = 1, cacheLimit: Int = defaultCacheLimit
  ) throws {
    guard Self.isFolder(folder) else { throw ConfigError("\(folder): not a folder of images") }
    let train = (folder as NSString).appendingPathComponent("train"), validation = (folder as NSString).appendingPathComponent("validation")
    if Self.isFolder(train), Self.isFolder(validation) {
      let chosen = split == .train ? train : validation
      let all = ImageFile.relativePaths(below: chosen)
      guard !all.isEmpty else { throw ConfigError("\(chosen): no PNG, JPEG, WebP or TIFF images found") }
      files = all.map { (chosen as NSString).appendingPathComponent($0) }
    } else {
      let all = ImageFile.relativePaths(below: folder)
      guard !all.isEmpty else { throw ConfigError("\(folder): no PNG, JPEG, WebP or TIFF images found") }
      let validation = Set(all.filter { Self.hashFraction($0) < validationFraction })
      var chosen = all.filter { (split == .validation) == validation.contains($0) }
      // Small folders: keep at least one image on each side.
      if chosen.isEmpty {
        chosen = split == .validation ? [all.last!] : Array(all.dropLast(all.count > 1 ? 1 : 0))
      }
      files = chosen.map { (folder as NSString).appendingPathComponent($0) }
    }
    self.size = size
    self.flip = flip
    self.rot90 = rot90
    self.seed = seed
    self.maxShortSide = maxShortSide
    self.cropCandidates = max(1, cropCandidates)
    self.cacheLimit = cacheLimit
    let bad = files.compactMap { file -> String? in
      do {
        _ = try ImageHeader.read(file)
        return nil
      } catch {
        return "\(error)"
      }
    }
    if !bad.isEmpty {
      throw ConfigError("\(bad.count) of \(files.count) images cannot be used; fix or remove them:\n  " + bad.joined(separator: "\n  "))
    }
  }

  static func isFolder(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
  }

  /// FNV-1a of the path, mapped to [0, 1).
  static func hashFraction(_ path: String) -> Double {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in path.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return Double(h >> 11) / Double(1 << 53)
  }

  /// The image, decoded once, with its short side at least `size` (and at most `maxShortSide`), as
  /// 8-bit values (uint8, 3 × H × W): a quarter of float32's memory, so the cache holds 4× the
  /// pixels; crops become [−1, 1] floats only when they are taken (`toSymmetric`).
  func image(_ index: Int) throws -> Tensor {
    if let cached = lock.withLock({ cache[index] }) { return cached }
    var image = try ImageFile.read(files[index], range: .symmetric)
    if let limit = maxShortSide { image = try UpsamplingEvaluation.limitShortSide(image, to: limit) }
    let (h, w) = (image.size(1), image.size(2))
    if min(h, w) < size {
      let scale = Double(size) / Double(min(h, w))
      let (nh, nw) = (max(size, Int((Double(h) * scale).rounded())), max(size, Int((Double(w) * scale).rounded())))
      image = try image.unsqueeze(dim: 0).interpolate(size: (nh, nw), mode: .bicubic, antialias: false).squeeze(dim: 0).clamp(min: -1, max: 1)
    }
    let bytes = try ((image + 1) * 127.5).round().clamp(min: 0, max: 255).to(.uint8)
    remember(bytes, at: index)
    return bytes
  }

  /// 8-bit values → [−1, 1] (exactly the decoder's values for 8-bit files).
  static func toSymmetric(_ bytes: Tensor) throws -> Tensor { try bytes.to(.float32) / 127.5 - 1 }

  private func remember(_ image: Tensor, at index: Int) {
    let bytes = image.elementCount
    lock.withLock {
      guard cache[index] == nil, bytes <= cacheLimit else { return }
      while cacheBytes + bytes > cacheLimit, let oldest = cacheOrder.first {
        cacheOrder.removeFirst()
        cacheBytes -= cache.removeValue(forKey: oldest)?.elementCount ?? 0
      }
      cache[index] = image
      cacheOrder.append(index)
      cacheBytes += bytes
    }
  }

  /// Bytes of decoded images held (at most `cacheLimit`).
  public var cachedBytes: Int { lock.withLock { cacheBytes } }

  /// Sample k of the training stream: a random crop (flip, rotation) of the image the epoch order picks.
  public func sample(_ k: Int) throws -> Tensor { try sampleWithSource(k).crop }

  /// Sample k and the index of the file it was cropped from.
  public func sampleWithSource(_ k: Int) throws -> (crop: Tensor, source: Int) {
    let index = try lock.withLock { try order.index(ofSample: k, count: files.count, seed: seed) }
    let image = try self.image(index)
    let g = try Generator(seed: seed ^ (UInt64(k) &* 0xBF58_476D_1CE4_E5B9) ^ 0x5555)
    let candidates = try (0..<cropCandidates).map { _ -> Tensor in
      let y = try Tensor.randint(0, image.size(1) - size + 1, [1], generator: g).itemInt()
      let x = try Tensor.randint(0, image.size(2) - size + 1, [1], generator: g).itemInt()
      return try image.narrow(dim: 1, start: y, length: size).narrow(dim: 2, start: x, length: size)
    }
    let scores = try candidates.count > 1 ? candidates.map(Self.detail) : [0]
    var crop = candidates[scores.indices.max { scores[$0] < scores[$1] }!]
    if flip, try Tensor.rand([1], generator: g).item() < 0.5 { crop = try crop.flip([2]) }
    if rot90 {
      // Transpose^b ∘ vflip^c ∘ hflip^a: the flips form a group of four, the transpose takes it to
      // the other four orientations (transposing before the vertical flip would repeat two).
      let transpose = try Tensor.rand([1], generator: g).item() < 0.5
      if try Tensor.rand([1], generator: g).item() < 0.5 { crop = try crop.flip([1]) }
      if transpose { crop = try crop.transpose(1, 2) }
    }
    return (try Self.toSymmetric(crop), index)
  }

  /// Mean squared difference between neighbouring pixels (8-bit units).
  static func detail(of crop: Tensor) throws -> Double {
    let c = try crop.to(.float32)
    let dy = try c.narrow(dim: 1, start: 1, length: c.size(1) - 1) - c.narrow(dim: 1, start: 0, length: c.size(1) - 1)
    let dx = try c.narrow(dim: 2, start: 1, length: c.size(2) - 1) - c.narrow(dim: 2, start: 0, length: c.size(2) - 1)
    return try Double((dy * dy).mean().item() + (dx * dx).mean().item())
  }

  /// Training batch number `index`: samples index·B ..< (index+1)·B of the stream.
  public func batch(_ index: Int, batchSize: Int) throws -> Tensor {
    try Tensor.stack((0..<batchSize).map { try sample(index * batchSize + $0) })
  }

  /// The centre crop of image `i`, in [−1, 1].
  public func centreCrop(_ i: Int) throws -> Tensor {
    let image = try self.image(i)
    return try Self.toSymmetric(image.narrow(dim: 1, start: (image.size(1) - size) / 2, length: size)
      .narrow(dim: 2, start: (image.size(2) - size) / 2, length: size))
  }

  /// Deterministic validation batches: centre crops in file order.
  public func validationBatches(batchSize: Int, limit: Int) throws -> [Tensor] {
    let crops = try files.indices.map(centreCrop)
    return try stride(from: 0, to: crops.count, by: batchSize).prefix(limit).map {
      try Tensor.stack(Array(crops[$0..<min(crops.count, $0 + batchSize)]))
    }
  }
}

/// The shuffled order of one epoch (a permutation seeded by the epoch number), kept while the
/// stream stays in that epoch.
struct EpochOrder {
  private var epoch = -1
  private var permutation: [Int64] = []

  /// The dataset index of sample `k` of the stream.
  mutating func index(ofSample k: Int, count: Int, seed: UInt64) throws -> Int {
    let e = k / count
    if e != epoch {
      permutation = try Tensor.randperm(count, generator: Generator(seed: seed &+ UInt64(e) &* 0x9E37_79B9)).toArray(Int64.self)
      epoch = e
    }
    return Int(permutation[k % count])
  }
}
