import ArgumentParser
import Torch

/// `--threads N`, the same in every command.
struct ThreadsOption: ParsableArguments {
  static let limit = 1024

  @Option(help: "Intra-op threads (default: every core, or $FMBOOST_THREADS).")
  var threads: Int?

  func validate() throws {
    if let threads, !(1...Self.limit).contains(threads) {
      throw ValidationError("--threads must be between 1 and \(Self.limit), got \(threads)")
    }
  }

  /// Applies the setting to libtorch (nothing when not given).
  func apply() {
    if let threads { Runtime.threads = threads }
  }
}

/// `--force`, the same in every command that writes files.
struct ForceOption: ParsableArguments {
  @Flag(help: "Overwrite existing outputs.")
  var force = false
}

/// `--scale-factor S`: the first stage's latent scale, positive and finite wherever it is taken.
enum ScaleFactor {
  static func validate(_ value: Double?) throws {
    if let value, !(value.isFinite && value > 0) {
      throw ValidationError("--scale-factor must be a positive number, got \(value)")
    }
  }
}
