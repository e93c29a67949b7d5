import ArgumentParser
import FMBoost
@preconcurrency import Glibc
import Pipelines
import Torch

@main
struct FMBoostCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fmboost",
    abstract: "FMBoost: coupling flow matching latent upsampling, in Swift over libtorch.",
    subcommands: [Upsample.self, Generate.self, Serve.self, Tokenize.self, Train.self, Precompute.self, Info.self, Inspect.self, Convert.self, Export.self, Eval.self, Encode.self, Decode.self, Forward.self, FID.self]
  )

  /// Line-buffered stdout, so progress reaches a log file (`> train.log`) as it happens.
  static func main() async {
    setvbuf(stdout, nil, _IOLBF, 0)
    do {
      var command = try parseAsRoot()
      if var command = command as? any AsyncParsableCommand { try await command.run() } else { try command.run() }
    } catch {
      exit(withError: error is RecipeError || error is PipelineError || error is DeviceError ? CommandError(CommandError.describe(error)) : error)
    }
  }
}

/// A failure the command reports as one line (no usage text): the message names the file and the problem.
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

extension CommandError {
  /// The option of the command line that sets each recipe field.
  static let recipeOptions: [RecipeError.Field: String] = [.latentScale: "--scale-factor", .noisingStep: "--noising-step", .steps: "--steps",
                                                             .atol: "--atol", .rtol: "--rtol", .tile: "--tile", .memoryBudget: "--memory-budget"]

  /// A library error in the command line's terms: the option it concerns, what to pass.
  static func describe(_ error: any Error) -> String {
    switch error {
    case let error as RecipeError:
      return recipeOptions[error.field].map { "\($0) \(error.problem)" } ?? error.description
    case PipelineError.outputExists(let path): return "\(path) exists; pass --force to overwrite it"
    case PipelineError.needsAutoencoder: return "\(error): pass --vae"
    case PipelineError.defaultModelMissing: return "no --model given and \(error); pass --model or set \(DefaultModel.environmentVariable)"
    case PipelineError.previewDecoderMismatch: return "--decoder \(error)"
    case PipelineError.precisionUnsupported: return "--precision: \(error)"
    case PipelineError.scaleUnreachable: return "--scale: \(error)"
    case is DeviceError: return "--device: \(error)"
    default: return "\(error)"
    }
  }
}
