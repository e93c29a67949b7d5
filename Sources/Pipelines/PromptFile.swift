import FileSupport
import Foundation

/// A prompt file: one prompt per line, optionally followed by a tab and the line's seed; blank
/// lines and lines starting with `#` are skipped. A prompt without a seed takes the base seed plus
/// its index among the prompts, so the same file gives the same images however it is sharded.
public struct PromptFile: Sendable {
  public struct Prompt: Sendable, Equatable {
    /// 1-based line number in the file.
    public let line: Int
    public let text: String
    public let seed: UInt64
    /// The line number as names and shard keys carry it, zero-padded so that they sort in file order.
    public var number: String { String(format: "%06d", line) }

    public init(line: Int, text: String, seed: UInt64) {
      (self.line, self.text, self.seed) = (line, text, seed)
    }
  }

  public let path: String
  public let prompts: [Prompt]

  public init(path: String, baseSeed: UInt64) throws {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw FileError(file: path, "cannot read the prompt file: \(error.localizedDescription)") }
    guard let text = String(data: data, encoding: .utf8) else { throw FileError(file: path, "is not UTF-8 text") }
    var prompts: [Prompt] = []
    for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
      guard !line.trimmingCharacters(in: .whitespaces).isEmpty, !line.hasPrefix("#") else { continue }
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard fields.count <= 2 else { throw FileError(file: path, "line \(offset + 1): a prompt takes at most one tab, before its seed") }
      var seed = baseSeed &+ UInt64(prompts.count)
      if fields.count == 2 {
        guard let given = UInt64(fields[1].trimmingCharacters(in: .whitespaces)) else {
          throw FileError(file: path, "line \(offset + 1): the seed after the tab must be a non-negative integer, got '\(fields[1])'")
        }
        seed = given
      }
      prompts.append(Prompt(line: offset + 1, text: String(fields[0]).trimmingCharacters(in: .whitespaces), seed: seed))
    }
    guard !prompts.isEmpty else { throw FileError(file: path, "holds no prompt") }
    (self.path, self.prompts) = (path, prompts)
  }

  /// The inputs of a batch, one per prompt: `<file>:<number>`.
  var inputs: [InputFile] { prompts.map { InputFile(path: "\(path):\($0.number)", relative: "line \($0.number)") } }
}
