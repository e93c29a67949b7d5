import Checkpoint
import FileSupport
import FMBoost
import Foundation
import StableDiffusion
import Testing
import TestSupport

/// The SD1.5 tokenizer against `golden-sd/clip_tokenizer.json` (the reference's cleaned text,
/// BPE tokens, ids and 77-id inputs for 20 prompts), with openai/CLIP's vocabulary as
/// `scripts/fetch-clip-vocab.sh` installs it (`make clip-vocab`).
@Suite struct CLIPTokenizerTests {
  static let vocabulary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data/clip/bpe_simple_vocab_16e6.txt.gz").path

  struct Prompt: Decodable {
    let prompt: String, cleaned: String, tokens: [String], ids: [Int]
    let input_ids: [Int]
  }

  static func prompts() throws -> [Prompt] {
    struct Fixture: Decodable { let prompts: [Prompt] }
    let data = try Data(contentsOf: URL(fileURLWithPath: Shared.root + "/golden-sd/clip_tokenizer.json"))
    return try JSONDecoder().decode(Fixture.self, from: data).prompts
  }

  static func tokenizer() throws -> CLIPTokenizer {
    guard FileManager.default.fileExists(atPath: vocabulary) else {
      throw CheckpointError(file: vocabulary, "missing: run scripts/fetch-clip-vocab.sh (make clip-vocab)")
    }
    return try CLIPTokenizer(bpeFile: vocabulary)
  }

  @Test func everyPromptCleansAndTokenisesAsTheReference() throws {
    let tokenizer = try Self.tokenizer()
    let prompts = try Self.prompts()
    #expect(prompts.count == 20)
    for p in prompts {
      #expect(CLIPTextCleanup.clean(p.prompt) == p.cleaned, "\(p.prompt)")
      #expect(tokenizer.bpeTokens(p.prompt) == p.tokens, "\(p.prompt)")
      #expect(tokenizer.encode(p.prompt) == p.ids, "\(p.prompt)")
      #expect(tokenizer.inputIDs(p.prompt) == p.input_ids, "\(p.prompt)")
    }
  }

  @Test func aDiffusersTokenizerFolderGivesTheSameIDs() throws {
    // The folder a diffusers pipeline carries: vocab.json and merges.txt (with its version line).
    let gz = try Gzip.decompress(Data(contentsOf: URL(fileURLWithPath: Self.vocabulary)), file: Self.vocabulary)
    let merges = String(decoding: gz, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)[1...48894]
    let reference = try Self.tokenizer()
    var vocabulary: [String: Int] = [:]
    // Every token of the reference vocabulary, recovered by encoding it.
    let folder = try temporaryDirectory("clip-tokenizer")
    for p in try Self.prompts() { for (token, id) in zip(reference.bpeTokens(p.prompt), reference.encode(p.prompt)) { vocabulary[token] = id } }
    try JSONSerialization.data(withJSONObject: vocabulary).write(to: folder.appendingPathComponent("vocab.json"))
    try ("#version: 0.2\n" + merges.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
    let fromFolder = try CLIPTokenizer(folder: folder.path)
    for p in try Self.prompts() { #expect(fromFolder.inputIDs(p.prompt) == p.input_ids, "\(p.prompt)") }
  }

  @Test func aCorruptVocabularyFileIsRefusedNamingIt() throws {
    let url = try temporaryDirectory("clip-tokenizer").appendingPathComponent("bpe.txt.gz")
    var data = try Data(contentsOf: URL(fileURLWithPath: Self.vocabulary))
    data[data.count / 2] ^= 0xFF
    try data.write(to: url)
    #expect { try CLIPTokenizer(bpeFile: url.path) } throws: { "\($0)".contains(url.path) }
    try Data(data.prefix(1000)).write(to: url)
    #expect { try CLIPTokenizer(bpeFile: url.path) } throws: { "\($0)".contains(url.path) }
  }
}
