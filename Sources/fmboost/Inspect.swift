import ArgumentParser
import Checkpoint
import Foundation

/// `fmboost inspect FILE`: the tensors of a checkpoint as a tree, with dtypes, shapes and counts.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the tensors of a .ckpt/.pth/.pt/.safetensors file as a tree with dtypes, shapes and parameter counts.")

  @Argument(help: "The file to inspect.") var file: String
  @Option(help: "Show tree levels down to this depth only (groups below it are summed).") var depth: Int?
  @Flag(help: "Print JSON instead of a tree.") var json = false

  func run() throws {
    let tensorFile = try TensorFile(path: file)
    let report = InspectReport(file: tensorFile, descriptors: tensorFile.descriptors())
    print(json ? try report.json() : report.lines(maxDepth: depth).joined(separator: "\n"))
  }
}
