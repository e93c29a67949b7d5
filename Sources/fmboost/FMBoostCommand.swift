import ArgumentParser

@main
struct FMBoostCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fmboost",
    abstract: "FMBoost: coupling flow matching latent upsampling, in Swift over libtorch.",
    subcommands: [Info.self]
  )
}
