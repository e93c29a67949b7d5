import ArgumentParser
import Checkpoint
import Foundation

/// `fmboost inspect FILE`: the tensors of a checkpoint as a tree, with dtypes, shapes and counts.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the tensors of a .ckpt/.pth/.pt/.safetensors file as a tree with dtypes, shapes and parameter counts.")

  @Argument(help: "The file to inspect.")
  var file: String

  @Option(help: "Show tree levels down to this depth only (groups below it are summed).")
  var depth: Int?

  @Flag(help: "Print JSON instead of a tree.")
  var json = false

  func run() throws {
    let tensorFile = try TensorFile(path: file)
    let descriptors = tensorFile.descriptors()
    if json {
      print(try InspectReport(file: tensorFile, descriptors: descriptors).json())
      return
    }
    let total = descriptors.reduce(0) { $0 + $1.elementCount }
    print("\(file): \(tensorFile.kind.rawValue), \(descriptors.count) tensors, \(total.grouped) elements")
    for (key, value) in tensorFile.metadata.sorted(by: { $0.key < $1.key }) {
      print("metadata \(key): \(value.count > 160 ? String(value.prefix(160)) + "…" : value)")
    }
    TensorTree(descriptors).render(maxDepth: depth).forEach { print($0) }
    if !tensorFile.skippedClasses.isEmpty {
      print("skipped (recorded by name, never constructed): \(tensorFile.skippedClasses.joined(separator: ", "))")
    }
  }
}
