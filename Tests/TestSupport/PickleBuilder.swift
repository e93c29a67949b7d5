import Foundation
import ZIPFoundation

/// Writes pickle opcodes by hand, for hostile test inputs.
public struct PickleBuilder {
  public private(set) var bytes: [UInt8] = [0x80, 0x02]
  public init() {}

  public mutating func raw(_ b: [UInt8]) { bytes += b }
  public mutating func mark() { bytes.append(0x28) }
  public mutating func string(_ s: String) {
    let u = Array(s.utf8)
    bytes.append(0x58)
    bytes += withUnsafeBytes(of: UInt32(u.count).littleEndian, Array.init)
    bytes += u
  }
  public mutating func int(_ v: Int32) {
    bytes.append(0x4A)
    bytes += withUnsafeBytes(of: v.littleEndian, Array.init)
  }
  public mutating func long(_ v: Int64) {
    bytes += [0x8A, 8]
    bytes += withUnsafeBytes(of: v.littleEndian, Array.init)
  }
  public mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
  public mutating func tuple() { bytes.append(0x74) }  // items since MARK
  public mutating func tuple1() { bytes.append(0x85) }
  public mutating func reduce() { bytes.append(0x52) }
  public mutating func emptyDict() { bytes.append(0x7D) }
  public mutating func setItems() { bytes.append(0x75) }
  public mutating func setItem() { bytes.append(0x73) }
  public mutating func stop() { bytes.append(0x2E) }

  /// _rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, size, stride, False, OrderedDict())
  public mutating func tensor(storageKey: String = "0", numel: Int64, offset: Int64 = 0, shape: [Int64], strides: [Int64]) {
    global("torch._utils", "_rebuild_tensor_v2")
    mark()
    mark(); string("storage"); global("torch", "FloatStorage"); string(storageKey); string("cpu"); long(numel); tuple()
    bytes.append(0x51)  // BINPERSID
    long(offset)
    mark(); for s in shape { long(s) }; tuple()
    mark(); for s in strides { long(s) }; tuple()
    bytes.append(0x89)  // False
    global("collections", "OrderedDict"); bytes.append(0x29); reduce()
    tuple()
    reduce()
  }

  /// A zip in torch.save's layout: `archive/data.pkl` and `archive/data/<key>` (stored, with CRCs).
  public static func torchZip(pickle: [UInt8], storages: [String: Data]) throws -> Data {
    let archive = try Archive(data: Data(), accessMode: .create)
    func add(_ path: String, _ data: Data) throws {
      try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none) { position, size in
        data.subdata(in: Int(position)..<(Int(position) + size))
      }
    }
    try add("archive/data.pkl", Data(pickle))
    try add("archive/byteorder", Data("little".utf8))
    for (key, data) in storages.sorted(by: { $0.key < $1.key }) { try add("archive/data/\(key)", data) }
    guard let data = archive.data else { throw CocoaError(.fileWriteUnknown) }
    return data
  }
}
