import ArgumentParser
import Torch
@preconcurrency import Glibc

@main
struct FMBoostCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fmboost",
    abstract: "FMBoost: coupling flow matching latent upsampling, in Swift over libtorch.",
    subcommands: [Upsample.self, Generate.self, Tokenize.self, Train.self, Precompute.self, Info.self, Inspect.self, Convert.self, Export.self, Eval.self, Encode.self, Decode.self, Forward.self, FID.self]
  )

  /// Line-buffered stdout, so progress reaches a log file (`> train.log`) as it happens.
  static func main() {
    setvbuf(stdout, nil, _IOLBF, 0)
    main(nil)
  }
}

/// A failure the command reports as one line (no usage text): the message names the file and the problem.
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

extension CommandError {
  /// Runs `body`, a library call on one input, and names the input in what it throws.
  static func naming<T>(_ input: CustomStringConvertible, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as TorchError {
      throw CommandError("\(input): \(error)")
    }
  }
}
