import ArgumentParser
import Torch

/// `fmboost info`: what libtorch this binary runs on.
struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the libtorch version, thread count, CPU capability and BLAS/oneDNN use.")

  @OptionGroup var threading: ThreadsOption

  @Flag(help: "Also print libtorch's full build configuration.")
  var verbose = false

  func run() throws {
    threading.apply()
    let info = try Runtime.buildInfo()
    print("libtorch        \(info.version)")
    print("threads         \(Runtime.threads) intra-op (\(Runtime.coreCount) cores online)")
    print("CPU capability  \(info.cpuCapability)")
    print("BLAS            \(info.blas); \(BLASCore.description)")
    print("oneDNN          \(info.usesOneDNN ? "yes" : "no")")
    if verbose {
      print("\n\(info.configuration)\n\(info.parallelism)")
    }
  }
}
