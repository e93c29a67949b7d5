import Foundation
import Torch

/// Turns the machine's object graph into a `CheckpointValue` tree: bounded depth, bounded size,
/// no cycles; tensors become views of one base tensor per storage, as in PyTorch.
struct Converter {
  let file: String
  let storages: StorageSource
  var bases: [String: Tensor] = [:]
  var nodes = 0
  var path = Set<ObjectIdentifier>()

  init(file: String, storages: StorageSource) {
    self.file = file
    self.storages = storages
  }

  func fail(_ reason: String) -> CheckpointError { CheckpointError(file: file, reason) }

  mutating func convert(_ value: PickleValue, depth: Int) throws -> CheckpointValue {
    nodes += 1
    guard nodes <= TorchCheckpoint.maxNodes else { throw fail("the object tree expands to more than \(TorchCheckpoint.maxNodes) values") }
    guard depth <= TorchCheckpoint.maxDepth else { throw fail("containers are nested more than \(TorchCheckpoint.maxDepth) levels deep") }
    switch value {
    case .none, .mark: return .none
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .bigInt(let s): return .bigInt(s)
    case .float(let f): return .float(f)
    case .string(let s): return .string(s)
    case .bytes(let b): return .bytes(b)
    case .global(let module, let name): return .global("\(module).\(name)")
    case .object(let o): return .placeholder(className: o.className)
    case .storage(let r): return .placeholder(className: "torch.\(r.dtype.rawValue)")
    case .tensor(let spec): return .tensor(try tensor(spec))
    case .list(let l): return .list(try children(l, depth))
    case .tuple(let l): return .tuple(try children(l, depth))
    case .set(let l): return .set(try children(l, depth))
    case .dict(let d):
      let id = ObjectIdentifier(d)
      guard path.insert(id).inserted else { throw fail("the object tree contains a cycle") }
      defer { path.remove(id) }
      return .dict(try d.entries.map { (try convert($0.key, depth: depth + 1), try convert($0.value, depth: depth + 1)) })
    }
  }

  private mutating func children(_ l: PickleList, _ depth: Int) throws -> [CheckpointValue] {
    let id = ObjectIdentifier(l)
    guard path.insert(id).inserted else { throw fail("the object tree contains a cycle") }
    defer { path.remove(id) }
    return try l.items.map { try convert($0, depth: depth + 1) }
  }

  private mutating func tensor(_ spec: TensorSpec) throws -> Tensor {
    let dtype = spec.storage.dtype.dtype
    let count = spec.storage.elementCount
    let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
    guard !overflow else { throw fail("storage \(spec.storage.key) declares an impossible size") }
    let base: Tensor
    if let cached = bases[spec.storage.key] {
      base = cached
    } else {
      let data = try storages.read(spec.storage.key, bytesNeeded)
      base = try data.withUnsafeBytes { raw in
        try Tensor(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<bytesNeeded]), shape: [count], dtype: dtype)
      }
      bases[spec.storage.key] = base
    }
    do {
      try Tensor.checkView(shape: spec.shape, strides: spec.strides, storageOffset: spec.storageOffset, storageElements: count)
    } catch let error as TorchError {
      throw fail("tensor on storage \(spec.storage.key): \(error)")
    }
    return try base.asStrided(shape: spec.shape, strides: spec.strides, storageOffset: spec.storageOffset)
  }
}
