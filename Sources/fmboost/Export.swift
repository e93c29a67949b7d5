import ArgumentParser
import Checkpoint
import FMBoost
import Foundation
import Pipelines
import Torch
import Training

/// `fmboost export CHECKPOINT -o MODEL.safetensors`: a training checkpoint as a model file to ship.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a training checkpoint's flow network as a model file for `fmboost upsample --model`.",
    discussion: paragraphs("""
      Keeps one copy of the weights (EMA by default), the network's architecture and the settings it was trained with (first stage, latent scale,
      upsampling mode, noise augmentation; the ODE method and steps of its validation unless --method/--steps), so upsampling needs no other flag.
      """))

  @Argument(help: "A training checkpoint (logs/<run>/checkpoints/*.safetensors).") var checkpoint: String
  @Option(name: .shortAndLong, help: "The model file to write (safetensors).") var output: String
  @Option(help: "ema or online weights.") var weights: StateDictSelection.Weights = .ema
  @Flag(help: "Store the weights as float16 (half the size; computation stays float32).") var half = false
  @Option(help: "Default ODE method recorded for upsampling.") var method: ODEMethod?
  @Option(help: "Default number of ODE steps recorded for upsampling.") var steps: Int?
  @Flag(help: "Overwrite the output file if it exists.") var force = false

  func validate() throws { if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") } }

  func run() throws {
    if FileManager.default.fileExists(atPath: output) && !force { throw PipelineError.outputExists(output) }
    let summary = try ModelExport.export(
      checkpoint: checkpoint, to: URL(fileURLWithPath: output), weights: weights, dtype: half ? .float16 : .float32, method: method, steps: steps)
    print("wrote \(output): \(summary.tensors) tensors, \(summary.bytes.grouped) bytes of weights from step \(summary.step); recipe \(try summary.recipe.json())")
  }
}
