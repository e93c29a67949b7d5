import Checkpoint
import FileSupport
import FMBoost
import Foundation

/// The CLIP BPE tokenizer as Stable Diffusion 1.5 uses it (openai/CLIP's `simple_tokenizer`, the
/// transformers `CLIPTokenizer`): text cleaned (`CLIPTextCleanup`), split by CLIP's pattern, each
/// piece's UTF-8 bytes mapped to printable characters and merged by rank; 77 ids, start 49406,
/// end and padding 49407.
public final class CLIPTokenizer {
  public static let startToken = 49406
  public static let endToken = 49407
  public static let contextLength = 77

  private let encoder: [String: Int]
  private let ranks: [Pair: Int]
  private var cache: [String: [String]] = ["<|startoftext|>": ["<|startoftext|>"], "<|endoftext|>": ["<|endoftext|>"]]

  private struct Pair: Hashable {
    let first: String, second: String
  }

  /// From a vocabulary (token → id) and the merges in rank order.
  public init(vocabulary: [String: Int], merges: [(String, String)]) {
    encoder = vocabulary
    var ranks: [Pair: Int] = [:]
    for (rank, merge) in merges.enumerated() where ranks[Pair(first: merge.0, second: merge.1)] == nil {
      ranks[Pair(first: merge.0, second: merge.1)] = rank
    }
    self.ranks = ranks
  }

  /// `bpe_simple_vocab_16e6.txt(.gz)` of openai/CLIP: its first 48,894 merges make the
  /// vocabulary of 49,408 (256 byte characters, the same with `</w>`, the merges, the two specials).
  public convenience init(bpeFile path: String) throws {
    guard var data = FileManager.default.contents(atPath: path) else { throw CheckpointError(file: path, "cannot read the file") }
    if data.starts(with: [0x1F, 0x8B]) { data = try Gzip.decompress(data, file: path) }
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    let count = 49152 - 256 - 2
    guard lines.count > count else { throw CheckpointError(file: path, "has \(lines.count) lines, a CLIP BPE file has over \(count)") }
    let merges = try lines[1...count].map { line -> (String, String) in
      let parts = line.split(separator: " ")
      guard parts.count == 2 else { throw CheckpointError(file: path, "merge line '\(line)' is not two symbols") }
      return (String(parts[0]), String(parts[1]))
    }
    let bytes = ByteCharacters.vocabularyOrder.map { String(ByteCharacters.table[$0]) }
    let tokens = bytes + bytes.map { $0 + "</w>" } + merges.map { $0.0 + $0.1 } + ["<|startoftext|>", "<|endoftext|>"]
    self.init(vocabulary: Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }), merges: merges)
  }

  /// A diffusers `tokenizer/` folder, or openai/CLIP's vocabulary file.
  public convenience init(path: String) throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue { try self.init(folder: path) } else { try self.init(bpeFile: path) }
  }

  /// A diffusers `tokenizer/` folder: `vocab.json` and `merges.txt` (its first line a version comment).
  public convenience init(folder: String) throws {
    let vocabPath = folder + "/vocab.json", mergesPath = folder + "/merges.txt"
    guard let vocabData = FileManager.default.contents(atPath: vocabPath) else { throw CheckpointError(file: vocabPath, "cannot read the file") }
    guard let vocabulary = try? JSONSerialization.jsonObject(with: vocabData) as? [String: Int] else {
      throw CheckpointError(file: vocabPath, "is not a JSON object of token ids")
    }
    guard let mergesData = FileManager.default.contents(atPath: mergesPath) else { throw CheckpointError(file: mergesPath, "cannot read the file") }
    let merges = String(decoding: mergesData, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#version") }.compactMap { line -> (String, String)? in
      let parts = line.split(separator: " ")
      return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
    }
    self.init(vocabulary: vocabulary, merges: merges)
  }

  /// The ids of `text` without start, end or padding (tokens the vocabulary lacks are skipped).
  public func encode(_ text: String) -> [Int] {
    bpeTokens(text).compactMap { encoder[$0] }
  }

  /// The BPE tokens of `text` (`photograph</w>`, ...).
  public func bpeTokens(_ text: String) -> [String] {
    let cleaned = CLIPTextCleanup.clean(text)
    var tokens: [String] = []
    for match in cleaned.matches(of: Self.pattern) {
      let piece = String(cleaned[match.range])
      let mapped = String(String.UnicodeScalarView(piece.utf8.map { ByteCharacters.table[Int($0)] }))
      tokens += bpe(mapped)
    }
    return tokens
  }

  /// The model's input: [start] + the first 75 ids + [end], padded with `end` to 77.
  public func inputIDs(_ text: String) -> [Int] {
    let ids = [Self.startToken] + encode(text).prefix(Self.contextLength - 2) + [Self.endToken]
    return ids + Array(repeating: Self.endToken, count: Self.contextLength - ids.count)
  }

  /// CLIP's pre-tokenisation pattern (case-insensitive).
  nonisolated(unsafe) static let pattern = try! Regex(#"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"#)
    .ignoresCase()

  /// Merges the symbols of one piece, lowest-ranked pair first, its last symbol marked `</w>`.
  private func bpe(_ piece: String) -> [String] {
    if let cached = cache[piece] { return cached }
    var word = piece.unicodeScalars.map { String($0) }
    guard !word.isEmpty else { return [] }
    word[word.count - 1] += "</w>"
    while word.count > 1 {
      var best: (rank: Int, pair: Pair)?
      for i in 0..<(word.count - 1) {
        let pair = Pair(first: word[i], second: word[i + 1])
        if let rank = ranks[pair], rank < (best?.rank ?? .max) { best = (rank, pair) }
      }
      guard let pair = best?.pair else { break }
      var merged: [String] = []
      var i = 0
      while i < word.count {
        if i < word.count - 1, word[i] == pair.first, word[i + 1] == pair.second {
          merged.append(pair.first + pair.second)
          i += 2
        } else {
          merged.append(word[i])
          i += 1
        }
      }
      word = merged
    }
    cache[piece] = word
    return word
  }
}

/// GPT-2's reversible map from bytes to printable characters: the printable Latin-1 bytes stand
/// for themselves, the other 68 for U+0100 onwards in byte order.
enum ByteCharacters {
  static let printable = Array(33...126) + Array(161...172) + Array(174...255)
  /// The bytes in the order their characters open the vocabulary: the printable ones, then the rest.
  static let vocabularyOrder = printable + (0..<256).filter { !Set(printable).contains($0) }

  static let table: [Unicode.Scalar] = {
    let printable = Set(Self.printable)
    var next = 256
    return (0..<256).map { byte in
      if printable.contains(byte) { return Unicode.Scalar(UInt32(byte))! }
      defer { next += 1 }
      return Unicode.Scalar(UInt32(next))!
    }
  }()
}
