import Foundation
import Torch

/// Parsing, validation and serialisation of the safetensors JSON header.
enum SafeTensorsHeader {
  struct Parsed {
    var metadata: [String: String] = [:]
    var entries: [String: SafeTensorsFile.Entry] = [:]
    var order: [String] = []
  }

  /// Nesting deeper than this is never a valid header (the deepest valid one is 3).
  static let maxDepth = 8

  struct Parser {
    let file: String
    let bytes: Data
    let dataLength: Int

    func fail(_ reason: String) -> CheckpointError { CheckpointError(file: file, reason) }

    func parse() throws -> Parsed {
      try checkNesting()
      let object: Any
      do {
        object = try JSONSerialization.jsonObject(with: bytes)
      } catch {
        throw fail("header is not valid JSON")
      }
      guard let root = object as? [String: Any] else { throw fail("header is not a JSON object") }
      var parsed = Parsed()
      for (name, value) in root {
        if name == "__metadata__" {
          guard let meta = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
          for (k, v) in meta {
            guard let s = v as? String else { throw fail("__metadata__ value for '\(k)' is not a string") }
            parsed.metadata[k] = s
          }
          continue
        }
        parsed.entries[name] = try entry(name, value)
      }
      parsed.order = parsed.entries.keys.sorted { parsed.entries[$0]!.range.lowerBound < parsed.entries[$1]!.range.lowerBound
        || (parsed.entries[$0]!.range.lowerBound == parsed.entries[$1]!.range.lowerBound && $0 < $1) }
      try checkLayout(parsed)
      return parsed
    }

    /// Rejects absurd nesting before a recursive JSON parser sees it.
    private func checkNesting() throws {
      var depth = 0, inString = false, escaped = false
      for byte in bytes {
        if inString {
          if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
          continue
        }
        switch byte {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["):
          depth += 1
          if depth > maxDepth { throw fail("header JSON is nested more than \(maxDepth) levels deep") }
        case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
        default: break
        }
      }
    }

    private func entry(_ name: String, _ value: Any) throws -> SafeTensorsFile.Entry {
      guard let info = value as? [String: Any] else { throw fail("entry '\(name)' is not an object") }
      guard let dtypeName = info["dtype"] as? String else { throw fail("tensor '\(name)' has no dtype") }
      guard let dtype = DType(safetensorsName: dtypeName) else { throw fail("tensor '\(name)' has unsupported dtype \(dtypeName)") }
      guard let shapeValues = info["shape"] as? [Any] else { throw fail("tensor '\(name)' has no shape") }
      let shape = try shapeValues.map { try integer($0, "a dimension of '\(name)'") }
      guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2 else {
        throw fail("tensor '\(name)' needs data_offsets [begin, end]")
      }
      let begin = try integer(offsets[0], "the begin offset of '\(name)'")
      let end = try integer(offsets[1], "the end offset of '\(name)'")
      guard begin <= end else { throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)] with begin after end") }
      guard end <= dataLength else {
        throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)] beyond the \(dataLength)-byte data section")
      }
      // The product of the non-zero dimensions must fit too: a zero elsewhere in the shape hides
      // an overflow from the byte count but not from libtorch's stride computation.
      var bytesNeeded = dtype.byteSize, extent = dtype.byteSize
      for d in shape {
        let (p, overflow) = bytesNeeded.multipliedReportingOverflow(by: d)
        let (e, extentOverflow) = extent.multipliedReportingOverflow(by: Swift.max(d, 1))
        guard !overflow, !extentOverflow else { throw fail("tensor '\(name)' has shape \(shape) whose size overflows") }
        bytesNeeded = p
        extent = e
      }
      guard bytesNeeded == end - begin else {
        throw fail("tensor '\(name)' of \(dtypeName) \(shape) needs \(bytesNeeded) bytes but data_offsets give \(end - begin)")
      }
      return .init(dtype: dtype, shape: shape, range: begin..<end)
    }

    private func integer(_ value: Any, _ what: String) throws -> Int {
      guard let n = value as? Int, n >= 0, n <= Int.max / 2 else {
        throw fail("\(what) is not a non-negative integer")
      }
      return n
    }

    /// Data ranges must tile the data section: no overlap, no gap, nothing after the last one.
    private func checkLayout(_ parsed: Parsed) throws {
      var position = 0
      for name in parsed.order {
        let range = parsed.entries[name]!.range
        if range.lowerBound < position { throw fail("tensor '\(name)' overlaps the data of another tensor") }
        if range.lowerBound > position { throw fail("unused bytes before tensor '\(name)' (offset \(position) to \(range.lowerBound))") }
        position = range.upperBound
      }
      if position != dataLength {
        throw fail("data section has \(dataLength) bytes but the tensors cover \(position)")
      }
    }
  }

  /// The header bytes in the layout the reference writer produces (compact JSON, `__metadata__`
  /// first, tensors in data order, padded with spaces to a multiple of 8).
  static func serialize(metadata: [String: String], entries: [(String, SafeTensorsFile.Entry)]) -> [UInt8] {
    var json = "{"
    var first = true
    func field(_ s: String) {
      if !first { json += "," }
      first = false
      json += s
    }
    if !metadata.isEmpty {
      let items = metadata.keys.sorted().map { "\(quote($0)):\(quote(metadata[$0]!))" }
      field("\"__metadata__\":{" + items.joined(separator: ",") + "}")
    }
    for (name, e) in entries {
      let shape = e.shape.map(String.init).joined(separator: ",")
      field("\(quote(name)):{\"dtype\":\"\(e.dtype.safetensorsName)\",\"shape\":[\(shape)],\"data_offsets\":[\(e.range.lowerBound),\(e.range.upperBound)]}")
    }
    json += "}"
    var bytes = Array(json.utf8)
    while bytes.count % 8 != 0 { bytes.append(UInt8(ascii: " ")) }
    return bytes
  }

  /// A JSON string literal escaped as serde_json does.
  static func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      case _ where scalar.value < 0x20:
        out += "\\u00" + String(scalar.value, radix: 16).leftPadded(to: 2)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// The reference writer's data order: larger dtypes first (by its dtype enum), then by name.
  static func writeRank(_ dtype: DType) -> Int {
    switch dtype {
    case .int64: return 0
    case .float64: return 1
    case .float32: return 2
    case .int32: return 3
    case .bfloat16: return 4
    case .float16: return 5
    case .int16: return 6
    case .int8: return 7
    case .uint8: return 8
    case .bool: return 9
    }
  }
}

extension String {
  func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
