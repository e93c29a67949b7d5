import Foundation

/// A restricted pickle machine (protocols 0-5, the opcodes `torch.save` and Lightning emit).
///
/// It never imports or calls anything. A handful of globals are understood by name — the ones that
/// rebuild tensors, storages and ordered dicts; every other class becomes an inert `PickleObject`
/// recorded by name. Every length is checked against the bytes that remain before anything is
/// allocated, and the memo and stacks are bounded by the pickle's own length.
final class PickleMachine {
  struct Failure: Error { let reason: String }

  private let bytes: [UInt8]
  /// The next byte to read; after `load()`, the first byte after STOP.
  private(set) var position: Int
  private var stack: [PickleValue] = []
  private var marks: [Int] = []
  private var memo: [Int: PickleValue] = [:]
  /// Every container created, so the graph can be dismantled iteratively.
  var containers: [AnyObject] = []
  /// Class names turned into placeholders, in first-seen order.
  var skipped: [String] = []
  var skippedSet = Set<String>()
  /// Resolves a persistent id (the tuple after BINPERSID) to a value.
  var persistentLoad: (PickleValue) throws -> PickleValue = { _ in throw Failure(reason: "unexpected persistent id") }

  init(_ bytes: [UInt8], start: Int = 0) {
    self.bytes = bytes
    position = start
  }

  /// Breaks every link between containers so they are freed one by one.
  func dismantle() {
    for object in containers {
      switch object {
      case let list as PickleList: list.items.removeAll()
      case let dict as PickleDict: dict.removeAll()
      case let obj as PickleObject:
        obj.arguments.removeAll()
        obj.state = .none
      default: break
      }
    }
    containers.removeAll()
    memo.removeAll()
    stack.removeAll()
  }

  // MARK: reading bytes

  func fail(_ reason: String) -> Failure { Failure(reason: "pickle: \(reason) (at byte \(position))") }

  private func take(_ n: Int) throws -> ArraySlice<UInt8> {
    guard n >= 0, n <= bytes.count - position else {
      throw fail("needs \(n) bytes but only \(bytes.count - position) remain")
    }
    defer { position += n }
    return bytes[position..<(position + n)]
  }

  private func byte() throws -> UInt8 { try take(1).first! }

  private func littleEndian(_ n: Int) throws -> UInt64 {
    try take(n).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
  }

  private func length(_ width: Int) throws -> Int {
    let value = try littleEndian(width)
    guard value <= UInt64(bytes.count - position) else {
      throw fail("declared length \(value) exceeds the \(bytes.count - position) bytes that remain")
    }
    return Int(value)
  }

  private func line() throws -> String {
    guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated text argument") }
    let text = String(decoding: bytes[position..<end], as: UTF8.self)
    position = end + 1
    return text.hasSuffix("\r") ? String(text.dropLast()) : text
  }

  private func utf8(_ slice: ArraySlice<UInt8>) throws -> String {
    guard let s = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8 string") }
    return s
  }

  // MARK: the stack

  private func pop() throws -> PickleValue {
    guard let v = stack.popLast() else { throw fail("stack underflow") }
    if case .mark = v { throw fail("unexpected MARK on the stack") }
    return v
  }

  private func popMark() throws -> [PickleValue] {
    guard let m = marks.popLast() else { throw fail("no MARK to pop to") }
    let items = Array(stack[(m + 1)...])  // stack[m] is the marker itself
    stack.removeSubrange(m...)
    return items
  }

  private func top() throws -> PickleValue {
    guard let v = stack.last else { throw fail("stack underflow") }
    return v
  }

  func newList(_ items: [PickleValue] = []) -> PickleList {
    let l = PickleList(items)
    containers.append(l)
    return l
  }

  func newDict() -> PickleDict {
    let d = PickleDict()
    containers.append(d)
    return d
  }

  private func put(_ index: Int) throws {
    guard index >= 0, index <= bytes.count else { throw fail("memo index \(index) out of range") }
    memo[index] = try top()
  }

  private func get(_ index: Int) throws -> PickleValue {
    guard let v = memo[index] else { throw fail("memo index \(index) was never stored") }
    return v
  }

  // MARK: running

  /// Runs to STOP and returns the result.
  func load() throws -> PickleValue {
    while true {
      let opcode = try byte()
      switch opcode {
      case 0x80: _ = try byte()  // PROTO
      case 0x95: _ = try length(8)  // FRAME: a hint only
      case 0x2E:  // STOP
        let result = try pop()
        return result
      case 0x28: marks.append(stack.count); stack.append(.mark)  // MARK
      case 0x30: _ = try pop()  // POP
      case 0x31: _ = try popMark()  // POP_MARK
      case 0x32: stack.append(try top())  // DUP
      case 0x4E: stack.append(.none)
      case 0x88: stack.append(.bool(true))
      case 0x89: stack.append(.bool(false))
      case 0x4B: stack.append(.int(Int(try byte())))  // BININT1
      case 0x4D: stack.append(.int(Int(try littleEndian(2))))  // BININT2
      case 0x4A: stack.append(.int(Int(Int32(bitPattern: UInt32(try littleEndian(4))))))  // BININT
      case 0x8A: stack.append(try long(try length(1)))  // LONG1
      case 0x8B: stack.append(try long(try length(4)))  // LONG4
      case 0x47: stack.append(.float(Double(bitPattern: UInt64(bigEndianBytes: try take(8)))))  // BINFLOAT
      case 0x49: stack.append(try textInt(try line()))  // INT
      case 0x4C:  // LONG
        let text = try line()
        stack.append(try textInt(text.hasSuffix("L") ? String(text.dropLast()) : text))
      case 0x46:  // FLOAT
        guard let d = Double(try line()) else { throw fail("bad FLOAT") }
        stack.append(.float(d))
      case 0x8C: stack.append(.string(try utf8(try take(try length(1)))))  // SHORT_BINUNICODE
      case 0x58: stack.append(.string(try utf8(try take(try length(4)))))  // BINUNICODE
      case 0x8D: stack.append(.string(try utf8(try take(try length(8)))))  // BINUNICODE8
      case 0x55: stack.append(.string(String(decoding: try take(try length(1)), as: UTF8.self)))  // SHORT_BINSTRING
      case 0x54: stack.append(.string(String(decoding: try take(try length(4)), as: UTF8.self)))  // BINSTRING
      case 0x43: stack.append(.bytes(Array(try take(try length(1)))))  // SHORT_BINBYTES
      case 0x42: stack.append(.bytes(Array(try take(try length(4)))))  // BINBYTES
      case 0x8E: stack.append(.bytes(Array(try take(try length(8)))))  // BINBYTES8
      case 0x96: stack.append(.bytes(Array(try take(try length(8)))))  // BYTEARRAY8
      case 0x56: stack.append(.string(try line()))  // UNICODE (raw-unicode-escape, ASCII in practice)
      case 0x53: stack.append(.string(try line().trimmingCharacters(in: CharacterSet(charactersIn: "'\""))))  // STRING
      case 0x29: stack.append(.tuple(newList()))  // EMPTY_TUPLE
      case 0x85: stack.append(.tuple(newList([try pop()])))  // TUPLE1
      case 0x86:  // TUPLE2
        let b = try pop(), a = try pop()
        stack.append(.tuple(newList([a, b])))
      case 0x87:  // TUPLE3
        let c = try pop(), b = try pop(), a = try pop()
        stack.append(.tuple(newList([a, b, c])))
      case 0x74: stack.append(.tuple(newList(try popMark())))  // TUPLE
      case 0x5D: stack.append(.list(newList()))  // EMPTY_LIST
      case 0x6C: stack.append(.list(newList(try popMark())))  // LIST
      case 0x7D: stack.append(.dict(newDict()))  // EMPTY_DICT
      case 0x64:  // DICT
        let items = try popMark()
        let d = newDict()
        try addPairs(items, to: d)
        stack.append(.dict(d))
      case 0x8F: stack.append(.set(newList()))  // EMPTY_SET
      case 0x91: stack.append(.set(newList(try popMark())))  // FROZENSET
      case 0x90:  // ADDITEMS
        let items = try popMark()
        guard case .set(let s) = try top() else { throw fail("ADDITEMS on a non-set") }
        s.items += items
      case 0x61:  // APPEND
        let v = try pop()
        try append([v], to: try top())
      case 0x65:  // APPENDS
        let items = try popMark()
        try append(items, to: try top())
      case 0x73:  // SETITEM
        let v = try pop(), k = try pop()
        try setItems([k, v], on: try top())
      case 0x75:  // SETITEMS
        let items = try popMark()
        try setItems(items, on: try top())
      case 0x71: try put(Int(try byte()))  // BINPUT
      case 0x72: try put(Int(try littleEndian(4)))  // LONG_BINPUT
      case 0x94: try put(memo.count)  // MEMOIZE
      case 0x70:  // PUT
        guard let i = Int(try line()) else { throw fail("bad PUT index") }
        try put(i)
      case 0x68: stack.append(try get(Int(try byte())))  // BINGET
      case 0x6A: stack.append(try get(Int(try littleEndian(4))))  // LONG_BINGET
      case 0x67:  // GET
        guard let i = Int(try line()) else { throw fail("bad GET index") }
        stack.append(try get(i))
      case 0x63:  // GLOBAL
        let module = try line(), name = try line()
        stack.append(.global(module: module, name: name))
      case 0x93:  // STACK_GLOBAL
        guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
          throw fail("STACK_GLOBAL needs two strings")
        }
        stack.append(.global(module: module, name: name))
      case 0x52:  // REDUCE
        let args = try pop(), callable = try pop()
        stack.append(try reduce(callable, arguments: try tupleItems(args)))
      case 0x81:  // NEWOBJ
        let args = try pop(), cls = try pop()
        stack.append(try instantiate(cls, arguments: try tupleItems(args)))
      case 0x92:  // NEWOBJ_EX
        _ = try pop()  // kwargs
        let args = try pop(), cls = try pop()
        stack.append(try instantiate(cls, arguments: try tupleItems(args)))
      case 0x62:  // BUILD
        let state = try pop()
        try build(try top(), state: state)
      case 0x51:  // BINPERSID
        stack.append(try persistentLoad(try pop()))
      case 0x69, 0x6F:  // INST, OBJ: old-style instances become placeholders
        if opcode == 0x69 {
          let module = try line(), name = try line()
          _ = try popMark()
          stack.append(placeholder("\(module).\(name)", []))
        } else {
          var items = try popMark()
          guard !items.isEmpty else { throw fail("OBJ without a class") }
          let cls = items.removeFirst()
          stack.append(try instantiate(cls, arguments: items))
        }
      default:
        throw fail(String(format: "unsupported opcode 0x%02X", opcode))
      }
    }
  }

  private func long(_ n: Int) throws -> PickleValue {
    let digits = try take(n)
    if n == 0 { return .int(0) }
    if n <= 8 {
      var value: UInt64 = 0
      for (i, b) in digits.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
      let shift = UInt64(64 - 8 * n)
      return .int(Int(Int64(bitPattern: value << shift) >> Int64(shift)))  // sign-extend
    }
    return .bigInt(digits.reversed().map { String(format: "%02x", $0) }.joined())
  }

  private func textInt(_ text: String) throws -> PickleValue {
    switch text {
    case "01": return .bool(true)
    case "00": return .bool(false)
    default:
      guard let v = Int(text) else { return .bigInt(text) }
      return .int(v)
    }
  }
}

extension UInt64 {
  init(bigEndianBytes bytes: ArraySlice<UInt8>) {
    self = bytes.reduce(0) { $0 << 8 | UInt64($1) }
  }
}
