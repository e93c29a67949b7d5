import Foundation

/// The opcodes' object semantics: containers filled by APPENDS/SETITEMS, BUILD, and the few
/// globals (tensors, ordered dicts) REDUCE and NEWOBJ understand; everything else a placeholder.
extension PickleMachine {
  func tupleItems(_ v: PickleValue) throws -> [PickleValue] {
    switch v {
    case .tuple(let t), .list(let t): return t.items
    default: throw fail("expected an argument tuple")
    }
  }

  func append(_ items: [PickleValue], to target: PickleValue) throws {
    switch target {
    case .list(let l): l.items += items
    case .object(let o): o.state = .list(newList(items))  // list subclasses: keep the items
    default: throw fail("APPEND on a non-list")
    }
  }

  func addPairs(_ items: [PickleValue], to d: PickleDict) throws {
    guard items.count % 2 == 0 else { throw fail("odd number of dict items") }
    for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
  }

  func setItems(_ items: [PickleValue], on target: PickleValue) throws {
    switch target {
    case .dict(let d): try addPairs(items, to: d)
    case .object(let o):  // dict subclasses (DictConfig's content, defaultdict): keep the pairs
      let d = newDict()
      try addPairs(items, to: d)
      o.arguments.append(.dict(d))
    default: throw fail("SETITEM on a non-dict")
    }
  }

  func build(_ target: PickleValue, state: PickleValue) throws {
    switch target {
    case .object(let o): o.state = state
    case .dict(let d):
      if case .dict(let s) = state { for (k, v) in s.entries { d.set(k, v) } }
    case .tensor:
      break  // tensor state (hooks, Parameter attributes) carries no data
    default: break
    }
  }

  func placeholder(_ className: String, _ args: [PickleValue]) -> PickleValue {
    if skippedSet.insert(className).inserted { skipped.append(className) }
    let o = PickleObject(className: className, arguments: args)
    containers.append(o)
    return .object(o)
  }

  /// `__torch__.*` classes are TorchScript modules; `__torch__.torch.classes.*` are C++ custom
  /// classes, whose state is opaque and stays a placeholder.
  static func isTorchScriptModule(_ module: String) -> Bool {
    (module == "__torch__" || module.hasPrefix("__torch__.")) && !module.hasPrefix("__torch__.torch.classes")
  }

  func instantiate(_ cls: PickleValue, arguments: [PickleValue]) throws -> PickleValue {
    guard case .global(let module, let name) = cls else {
      return placeholder("<instance of a non-class>", arguments)
    }
    switch (module, name) {
    case ("collections", "OrderedDict"), ("builtins", "dict"), ("__builtin__", "dict"), ("collections", "defaultdict"):
      return .dict(newDict())
    case _ where Self.isTorchScriptModule(module):
      // A TorchScript module (torch.jit.save): its attributes arrive by BUILD as a dict, so the
      // module becomes that dict and submodules nest (`net.layers.conv.weight`). Its code is never read.
      return .dict(newDict())
    default:
      return placeholder("\(module).\(name)", arguments)
    }
  }

  /// Calls that are understood by name; anything else is recorded, not called.
  func reduce(_ callable: PickleValue, arguments args: [PickleValue]) throws -> PickleValue {
    guard case .global(let module, let name) = callable else {
      return placeholder("<call of a non-global>", args)
    }
    switch (module, name) {
    case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
      return try rebuildTensor(args)
    case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
      guard let data = args.first, case .tensor = data else { throw fail("_rebuild_parameter without a tensor") }
      return data
    case ("torch._tensor", "_rebuild_from_type_v2"):
      guard args.count >= 3 else { throw fail("_rebuild_from_type_v2 needs 3 arguments") }
      return try reduce(args[0], arguments: try tupleItems(args[2]))
    case ("collections", "OrderedDict"), ("builtins", "dict"), ("__builtin__", "dict"), ("collections", "defaultdict"):
      let d = newDict()
      if case .list(let pairs)? = args.first {
        for pair in pairs.items { try addPairs(try tupleItems(pair), to: d) }
      }
      return .dict(d)
    case ("builtins", "set"), ("__builtin__", "set"), ("builtins", "frozenset"), ("__builtin__", "frozenset"):
      if case .list(let l)? = args.first { return .set(newList(l.items)) }
      return .set(newList())
    case ("torch.jit._pickle", "build_intlist"), ("torch.jit._pickle", "build_doublelist"),
      ("torch.jit._pickle", "build_boollist"), ("torch.jit._pickle", "build_tensorlist"):
      // TorchScript's typed lists: the list itself.
      guard let list = args.first, case .list = list else { throw fail("\(name) needs a list") }
      return list
    case ("_codecs", "encode"):
      // Protocol 2's way of writing bytes: _codecs.encode(text, 'latin1').
      guard case .string(let s)? = args.first else { throw fail("_codecs.encode needs a string") }
      return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
    default:
      return placeholder("\(module).\(name)", args)
    }
  }

  func rebuildTensor(_ args: [PickleValue]) throws -> PickleValue {
    guard args.count >= 4, case .storage(let storage) = args[0], case .int(let offset) = args[1] else {
      throw fail("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)")
    }
    let shape = try integers(args[2], "size")
    let strides = try integers(args[3], "stride")
    guard shape.count == strides.count else { throw fail("tensor size \(shape) and stride \(strides) differ in rank") }
    var requiresGrad = false
    if args.count > 4, case .bool(let r) = args[4] { requiresGrad = r }
    return .tensor(TensorSpec(storage: storage, storageOffset: offset, shape: shape, strides: strides, requiresGrad: requiresGrad))
  }

  func integers(_ v: PickleValue, _ what: String) throws -> [Int] {
    try tupleItems(v).map {
      guard case .int(let i) = $0 else { throw fail("tensor \(what) holds a non-integer") }
      return i
    }
  }
}
