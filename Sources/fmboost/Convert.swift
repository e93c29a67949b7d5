import ArgumentParser
import Checkpoint
import Foundation
import Pipelines

/// `fmboost convert IN OUT.safetensors`: a checkpoint's state_dict as safetensors, key names kept.
struct Convert: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the state_dict of a .ckpt/.pth/.pt/.safetensors file as safetensors (atomically), keeping the key names.",
    discussion: paragraphs("""
      Lightning checkpoints of FMBoost hold two copies of the flow network: --weights ema takes `ema_model.ema_model.net.*`, --weights online takes
      `model.net.*`, both without the prefix. --strip-prefix P keeps only the keys that start with P and removes it (for example `first_stage_model.`
      for the autoencoder inside a full Stable Diffusion checkpoint).
      """))

  @Argument(help: "The checkpoint to read.") var input: String
  @Argument(help: "The safetensors file to write.") var output: String
  @Option(help: "Select FMBoost's flow-network weights from a Lightning checkpoint: ema or online.") var weights: StateDictSelection.Weights?
  @Option(help: "Keep only keys starting with this prefix, and remove it.") var stripPrefix: String?
  @Flag(help: "Overwrite the output file if it exists.") var force = false

  func run() throws {
    if FileManager.default.fileExists(atPath: output) && !force { throw PipelineError.outputExists(output) }
    let summary = try StateDictConversion.convert(input, to: output, weights: weights, stripPrefix: stripPrefix)
    print("wrote \(output): \(summary.tensors) tensors, \(summary.elements.grouped) elements")
    if !summary.skippedClasses.isEmpty { print("skipped (recorded by name, never constructed): \(summary.skippedClasses.joined(separator: ", "))") }
  }
}

extension StateDictSelection.Weights: ExpressibleByArgument {}
