import FMBoost
import Foundation

/// The text clean-up of SD1.5's tokenizer: `ftfy.fix_text` with its defaults, whitespace runs
/// collapsed to one space and trimmed, lowercased. Of ftfy's fixes this reproduces, in its order:
/// HTML entities (numeric, and the named ones below; not when the text has a `<`, as ftfy's
/// "auto"), mojibake of UTF-8 read as Windows-1252 or Latin-1 (the whole text re-encoded, kept
/// when it decodes as UTF-8), C0/C1 control characters other than tab and line breaks removed,
/// Latin ligatures, full- and half-width forms, curly quotes, NFC. ftfy's finer mojibake
/// heuristics (mixed texts, partial sequences) and terminal escapes are not reproduced.
public enum CLIPTextCleanup {
  public static func clean(_ text: String) -> String {
    var s = text
    if !s.contains("<") { s = unescapeEntities(s) }
    s = fixMojibake(s)
    s = String(String.UnicodeScalarView(s.unicodeScalars.compactMap(mapScalar).joined()))
    s = s.precomposedStringWithCanonicalMapping
    let collapsed = s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    return collapsed.lowercased()
  }

  /// Ligatures, widths, quotes and control characters, one scalar at a time.
  private static func mapScalar(_ c: Unicode.Scalar) -> [Unicode.Scalar]? {
    switch c.value {
    case 0x2018...0x201B, 0x02BC: return ["'"]
    case 0x201C...0x201F: return ["\""]
    case 0x3000: return [" "]
    case 0x09, 0x0A, 0x0D: return [c]
    case 0x00...0x1F, 0x7F...0x9F: return nil
    case 0xFB00...0xFB06, 0x0132, 0x0133, 0x0149, 0x01C4...0x01CC, 0x01F1...0x01F3, 0xFF01...0xFFEF:
      return Array(String(c).precomposedStringWithCompatibilityMapping.unicodeScalars)
    default: return [c]
    }
  }

  /// UTF-8 that was decoded as Windows-1252 (or Latin-1): encoded back, and decoded as UTF-8 when
  /// every character has a byte there and the bytes are valid UTF-8 with something beyond ASCII.
  static func fixMojibake(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.value >= 0x80 }) else { return text }
    var bytes: [UInt8] = []
    for c in text.unicodeScalars {
      if c.value < 0x80 || (0xA0...0xFF).contains(c.value) {
        bytes.append(UInt8(c.value))
      } else if let b = windows1252[c.value] {
        bytes.append(b)
      } else {
        return text
      }
    }
    guard let fixed = String(validating: bytes, as: UTF8.self), fixed != text else { return text }
    return fixed
  }

  /// Windows-1252's characters for bytes 0x80–0x9F.
  static let windows1252: [UInt32: UInt8] = {
    let scalars: [UInt32] = [
      0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
      0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]
    var table: [UInt32: UInt8] = [:]
    for (i, s) in scalars.enumerated() where s != 0 { table[s] = UInt8(0x80 + i) }
    return table
  }()

  static let namedEntities: [String: String] = [
    "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©", "reg": "®",
    "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
    "deg": "°", "times": "×", "eacute": "é", "egrave": "è", "agrave": "à", "ccedil": "ç", "uuml": "ü", "ouml": "ö",
    "auml": "ä", "szlig": "ß", "euro": "€", "pound": "£", "yen": "¥", "middot": "·",
  ]

  /// `&name;`, `&#NNN;` and `&#xHH;`.
  static func unescapeEntities(_ text: String) -> String {
    guard text.contains("&") else { return text }
    return text.replacing(entityPattern) { match in
      let body = String(match.output.1)
      if body.hasPrefix("#x") || body.hasPrefix("#X") {
        return UInt32(body.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) } ?? String(match.output.0)
      }
      if body.hasPrefix("#") { return UInt32(body.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) } ?? String(match.output.0) }
      return namedEntities[body] ?? String(match.output.0)
    }
  }

  nonisolated(unsafe) static let entityPattern = #/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});/#
}
