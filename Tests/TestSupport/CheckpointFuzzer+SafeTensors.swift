import Checkpoint
import Foundation
import Torch
import ZIPFoundation

/// The fuzzer's mutations aimed at the parts of a safetensors file.
extension CheckpointFuzzer {
  /// Replacements for a JSON number of the header (sizes, offsets near integer limits, non-integers,
  /// other JSON types).
  static let interestingNumbers = [
    "0", "1", "-1", "2", "3", "8", "255", "4096", "2147483647", "2147483648", "4294967296",
    "4611686018427387903", "4611686018427387904", "9223372036854775807", "9223372036854775808",
    "18446744073709551616", "1e400", "-1e400", "1.5", "1e3", "-0", "0.0", "null", "true", "\"7\"", "[]", "{}", "[0,0]",
  ]
  /// Replacements for the contents of a JSON string of the header (dtype names, the reserved keys,
  /// escapes, lone surrogates).
  static let interestingStrings = [
    "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "U64", "C64", "",
    "__metadata__", "dtype", "shape", "data_offsets", "\\u0000", "\\ud800", "\\udc00\\ud800", "\\\"", "\\", "\u{00E9}",
  ]
  /// Entries spliced in after the header's opening brace.
  static let interestingEntries = [
    #""x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#,
    #""x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"#,
    #""x":{"dtype":"U8","shape":[],"data_offsets":[0,1]},"#,
    #""__metadata__":{"a":"b"},"#,
    #""__metadata__":{"a":1},"#,
    #""x":{"dtype":"F32","shape":[0,4611686018427387903,4611686018427387903],"data_offsets":[0,0]},"#,
    #""x":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]],"#,
  ]

  /// Byte ranges of the header's JSON numbers (with their sign, fraction and exponent) and of the
  /// contents of its strings.
  static func jsonTokens(_ header: [UInt8]) -> (numbers: [Range<Int>], strings: [Range<Int>]) {
    func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    let numberBytes: Set<UInt8> = [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-")]
    var numbers: [Range<Int>] = [], strings: [Range<Int>] = []
    var i = 0
    while i < header.count {
      let c = header[i]
      if c == UInt8(ascii: "\"") {
        var j = i + 1
        while j < header.count && header[j] != UInt8(ascii: "\"") { j += header[j] == UInt8(ascii: "\\") ? 2 : 1 }
        strings.append((i + 1)..<min(j, header.count))
        i = j + 1
      } else if isDigit(c) || c == UInt8(ascii: "-") {
        var j = i + 1
        while j < header.count && (isDigit(header[j]) || numberBytes.contains(header[j])) { j += 1 }
        numbers.append(i..<j)
        i = j
      } else {
        i += 1
      }
    }
    return (numbers, strings)
  }

  /// A safetensors file from its parts: the 8-byte little-endian header length, header, data.
  static func safetensorsBytes(length: UInt64, header: [UInt8], body: [UInt8]) -> Data {
    var out = Data(capacity: 8 + header.count + body.count)
    for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
    out.append(contentsOf: header)
    out.append(contentsOf: body)
    return out
  }

  /// One mutation aimed at a part of a safetensors file: the header length, the JSON (raw bytes or
  /// a token, with the length fixed up so the parser sees the damage), the data, or the file's end.
  func mutateSafeTensors(_ input: Data) -> Data {
    let bytes = [UInt8](input)
    guard bytes.count >= 8 else { return mutate(input) }
    let declared = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    let length = Int(min(declared, UInt64(bytes.count - 8)))
    let header = Array(bytes[8..<(8 + length)]), body = Array(bytes[(8 + length)...])
    switch below(9) {
    case 0:
      return mutate(input)
    case 1:
      // A new header length near every boundary.
      let candidates: [UInt64] = [
        0, 1, 2, 7, declared &- 1, declared &+ 1, declared &+ 8, declared &- 8, UInt64(bytes.count - 8), UInt64(bytes.count - 7),
        UInt64(SafeTensorsFile.maxHeaderSize), UInt64(SafeTensorsFile.maxHeaderSize) + 1, UInt64(Int.max), 1 << 63,
        UInt64.max, declared | 1 << 32, next(),
      ]
      return Self.safetensorsBytes(length: candidates[below(candidates.count)], header: header, body: body)
    case 2:
      // One bit of the header length.
      var copy = bytes
      copy[below(8)] ^= UInt8(1 << below(8))
      return Data(copy)
    case 3, 4:
      // A JSON number or string replaced, or an entry spliced in.
      var edited = header
      let (numbers, strings) = Self.jsonTokens(header)
      let choice = below(5)
      if choice < 2, !numbers.isEmpty {
        let range = numbers[below(numbers.count)]
        edited.replaceSubrange(range, with: Array(Self.interestingNumbers[below(Self.interestingNumbers.count)].utf8))
      } else if choice < 4, !strings.isEmpty {
        let range = strings[below(strings.count)]
        edited.replaceSubrange(range, with: Array(Self.interestingStrings[below(Self.interestingStrings.count)].utf8))
      } else if let brace = edited.firstIndex(of: UInt8(ascii: "{")) {
        edited.insert(contentsOf: Array(Self.interestingEntries[below(Self.interestingEntries.count)].utf8), at: brace + 1)
      }
      return Self.safetensorsBytes(length: UInt64(edited.count), header: edited, body: body)
    case 5, 6:
      // Raw bytes of the JSON; the length follows the edit most of the time.
      let edited = [UInt8](mutate(Data(header)))
      return Self.safetensorsBytes(length: below(4) == 0 ? declared : UInt64(edited.count), header: edited, body: body)
    case 7:
      // The data section (tensor bytes, or its size).
      return Self.safetensorsBytes(length: declared, header: header, body: [UInt8](mutate(Data(body))))
    default:
      // Truncated anywhere (inside the length, the JSON or the data), or extended.
      if below(2) == 0 { return Data(bytes.prefix(below(bytes.count + 1))) }
      return Data(bytes + (0..<(1 + below(64))).map { _ in UInt8(truncatingIfNeeded: next()) })
    }
  }
}
