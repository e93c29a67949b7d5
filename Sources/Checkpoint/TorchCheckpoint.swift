import Foundation
import Torch
import ZIPFoundation

/// A file written by `torch.save` — the zip format (PyTorch ≥ 1.6) or the legacy one — read without
/// running any of its code. `.ckpt` (Lightning), `.pth` and `.pt` files are all this.
public final class TorchCheckpoint {
  public enum Format: Sendable, Equatable {
    /// A zip archive whose records live under `archiveName/`.
    case zip(archiveName: String)
    /// The pre-1.6 layout: magic number, protocol, system info, objects, storages.
    case legacy
  }

  public let path: String
  public let format: Format
  /// The object tree.
  public let root: CheckpointValue
  /// Classes that were recorded by name instead of constructed (for example
  /// `omegaconf.dictconfig.DictConfig`), in first-seen order.
  public let skippedClasses: [String]

  /// Deepest container nesting accepted.
  public static let maxDepth = 64
  /// Most values a tree may expand to (shared sub-trees count each time they appear).
  public static let maxNodes = 1_000_000

  public init(path: String) throws {
    self.path = path
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
      throw CheckpointError(file: path, "cannot read the file (\((error as NSError).localizedDescription))")
    }
    let loaded: (Format, PickleMachine, PickleValue, StorageSource)
    do {
      if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
        loaded = try Self.loadZip(path: path)
      } else if data.first == 0x80 {
        loaded = try Self.loadLegacy(data)
      } else {
        throw CheckpointError(file: path, "not a torch.save file (neither a zip archive nor a legacy pickle)")
      }
    } catch let error as PickleMachine.Failure {
      throw CheckpointError(file: path, error.reason)
    } catch let error as TorchError {
      throw CheckpointError(file: path, "\(error)")
    }
    let (format, machine, value, storages) = loaded
    defer { machine.dismantle() }
    var converter = Converter(file: path, storages: storages)
    do {
      root = try converter.convert(value, depth: 0)
    } catch let error as TorchError {
      throw CheckpointError(file: path, "\(error)")
    } catch let error as PickleMachine.Failure {
      throw CheckpointError(file: path, error.reason)
    }
    self.format = format
    skippedClasses = machine.skipped
  }

  /// Every tensor with its path of dict keys and list indices (`state_dict/model.net.x`).
  public func tensors() -> [(path: String, tensor: Tensor)] { root.tensors() }

  // MARK: zip

  private static func loadZip(path: String) throws -> (Format, PickleMachine, PickleValue, StorageSource) {
    let archive: Archive
    do {
      archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
    } catch {
      throw CheckpointError(file: path, "not a readable zip archive (\(error))")
    }
    var entries: [String: Entry] = [:]
    for entry in archive { entries[entry.path] = entry }
    guard let pickleEntry = entries.values.first(where: { $0.path.hasSuffix("/data.pkl") || $0.path == "data.pkl" }) else {
      throw CheckpointError(file: path, "zip archive has no data.pkl: not a torch.save file")
    }
    let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
    let archiveName = prefix.isEmpty ? "" : String(prefix.dropLast())
    func read(_ entry: Entry) throws -> Data {
      let size = entry.uncompressedSize
      guard size <= UInt64(Int.max / 2) else { throw CheckpointError(file: path, "zip entry \(entry.path) is too large") }
      var result = Data()
      result.reserveCapacity(Int(min(size, 1 << 30)))
      let checksum: CRC32
      do {
        checksum = try archive.extract(entry, skipCRC32: false) { chunk in result.append(chunk) }
      } catch {
        throw CheckpointError(file: path, "zip entry \(entry.path) is damaged (\(error))")
      }
      guard checksum == entry.checksum else {
        throw CheckpointError(file: path, "zip entry \(entry.path) is damaged (CRC-32 mismatch)")
      }
      guard UInt64(result.count) == size else {
        throw CheckpointError(file: path, "zip entry \(entry.path) holds \(result.count) bytes, its header says \(size)")
      }
      return result
    }
    if let order = entries[prefix + "byteorder"] {
      let text = String(decoding: try read(order), as: UTF8.self)
      guard text == "little" else { throw CheckpointError(file: path, "byte order '\(text)' is not supported (only little-endian)") }
    }
    let machine = PickleMachine([UInt8](try read(pickleEntry)))
    let catalog = StorageCatalog()
    machine.persistentLoad = catalog.reference
    let value = try machine.load()
    let source = StorageSource { key, bytesNeeded in
      guard let entry = entries[prefix + "data/" + key] else {
        throw CheckpointError(file: path, "storage data/\(key) is missing from the archive")
      }
      guard entry.uncompressedSize >= UInt64(bytesNeeded) else {
        throw CheckpointError(file: path, "storage data/\(key) holds \(entry.uncompressedSize) bytes, its tensors need \(bytesNeeded)")
      }
      return try read(entry)
    }
    return (.zip(archiveName: archiveName), machine, value, source)
  }

  // MARK: legacy

  private static let legacyMagic = "1950a86a20f9469cfc6c"

  private static func loadLegacy(_ data: Data) throws -> (Format, PickleMachine, PickleValue, StorageSource) {
    let bytes = [UInt8](data)
    var position = 0
    func next(_ catalog: StorageCatalog? = nil) throws -> (PickleMachine, PickleValue) {
      let m = PickleMachine(bytes, start: position)
      if let catalog { m.persistentLoad = catalog.reference }
      let v = try m.load()
      position = m.position
      return (m, v)
    }
    func header() throws -> PickleValue {
      let (m, v) = try next()
      m.dismantle()
      return v
    }
    guard case .bigInt(let hex) = try header(), hex == legacyMagic else {
      throw PickleMachine.Failure(reason: "not a torch.save file (the legacy magic number is missing)")
    }
    guard case .int(1001) = try header() else { throw PickleMachine.Failure(reason: "unsupported legacy protocol version") }
    _ = try header()  // system info: byte order and type sizes of the writer
    let catalog = StorageCatalog()
    let (machine, value) = try next(catalog)
    let (keysMachine, keysValue) = try next()
    defer { keysMachine.dismantle() }
    guard case .list(let keyList) = keysValue else { throw PickleMachine.Failure(reason: "legacy storage key list is missing") }
    // Raw storages follow in key order, each as an int64 element count and then the elements.
    var storages: [String: Range<Int>] = [:]
    for key in keyList.items {
      guard case .string(let name) = key else { throw PickleMachine.Failure(reason: "legacy storage key is not a string") }
      guard let reference = catalog.references[name] else {
        throw PickleMachine.Failure(reason: "legacy storage \(name) is not referenced by any tensor")
      }
      guard bytes.count - position >= 8 else { throw PickleMachine.Failure(reason: "file ends inside storage \(name)'s header") }
      let count = bytes[position..<(position + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
      position += 8
      let available = UInt64(bytes.count - position) / UInt64(reference.dtype.dtype.byteSize)
      guard count <= available else {
        throw PickleMachine.Failure(reason: "storage \(name) declares \(count) elements but the file holds at most \(available)")
      }
      let length = Int(count) * reference.dtype.dtype.byteSize
      storages[name] = position..<(position + length)
      position += length
    }
    let source = StorageSource { key, bytesNeeded in
      guard let range = storages[key] else { throw PickleMachine.Failure(reason: "storage \(key) is missing from the file") }
      guard range.count >= bytesNeeded else {
        throw PickleMachine.Failure(reason: "storage \(key) holds \(range.count) bytes, its tensors need \(bytesNeeded)")
      }
      return data.subdata(in: range)
    }
    return (.legacy, machine, value, source)
  }
}

/// Records the storages that persistent ids name: ('storage', <storage class>, key, location,
/// numel[, view metadata]).
final class StorageCatalog {
  var references: [String: StorageReference] = [:]

  func reference(_ id: PickleValue) throws -> PickleValue {
    guard case .tuple(let t) = id, t.items.count >= 5, case .string("storage") = t.items[0] else {
      throw PickleMachine.Failure(reason: "pickle: unsupported persistent id (expected a storage)")
    }
    guard case .global(_, let typeName) = t.items[1] else {
      throw PickleMachine.Failure(reason: "pickle: storage type is not a class reference")
    }
    guard let code = DTypeCode(rawValue: typeName) else {
      throw PickleMachine.Failure(reason: "pickle: unsupported storage type \(typeName)")
    }
    guard case .string(let key) = t.items[2], case .int(let count) = t.items[4], count >= 0 else {
      throw PickleMachine.Failure(reason: "pickle: malformed storage id")
    }
    if let known = references[key], known.dtype != code || known.elementCount != count {
      throw PickleMachine.Failure(reason: "pickle: storage \(key) is described twice with different types or sizes")
    }
    let r = StorageReference(key: key, dtype: code, elementCount: count)
    references[key] = r
    return .storage(r)
  }
}

/// Reads a storage's bytes by key; `bytesNeeded` is what its declared element count requires.
struct StorageSource {
  let read: (_ key: String, _ bytesNeeded: Int) throws -> Data
}

extension DTypeCode {
  var dtype: DType {
    switch self {
    case .FloatStorage: return .float32
    case .HalfStorage: return .float16
    case .BFloat16Storage: return .bfloat16
    case .DoubleStorage: return .float64
    case .LongStorage: return .int64
    case .IntStorage: return .int32
    case .ShortStorage: return .int16
    case .CharStorage: return .int8
    case .ByteStorage: return .uint8
    case .BoolStorage: return .bool
    }
  }
}
