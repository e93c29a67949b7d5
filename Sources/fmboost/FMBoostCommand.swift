import ArgumentParser

@main
struct FMBoostCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fmboost",
    abstract: "FMBoost: coupling flow matching latent upsampling, in Swift over libtorch.",
    subcommands: [Upsample.self, Train.self, Precompute.self, Info.self, Inspect.self, Convert.self, Encode.self, Decode.self, Forward.self]
  )
}

/// A failure the command reports as one line (no usage text): the message names the file and the problem.
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
