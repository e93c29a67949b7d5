import ArgumentParser
import FMBoost
import Foundation
import Pipelines
import StableDiffusion

/// `fmboost tokenize PROMPT...`: SD1.5's CLIP input ids, one JSON array of 77 per line (a parity tool).
struct Tokenize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the 77 CLIP token ids SD1.5 feeds its text encoder for each prompt (one JSON array per line).",
    discussion: "start 49406, the BPE ids of the cleaned, lowercased text (at most 75), end 49407, padded with 49407.")

  @Argument(help: "Prompts.") var prompts: [String]
  @Option(help: "openai/CLIP's bpe_simple_vocab_16e6.txt(.gz) (default: the one `make clip-vocab` fetches) or a diffusers tokenizer/ folder.") var vocabulary: String?

  func run() throws {
    guard let path = CLIPVocabulary.path(vocabulary) else { throw CommandError("no CLIP vocabulary: run `make clip-vocab` or pass --vocabulary") }
    let tokenizer = try CLIPTokenizer(path: path)
    for prompt in prompts { print("[" + tokenizer.inputIDs(prompt).map(String.init).joined(separator: ", ") + "]") }
  }
}
