import ArgumentParser
import COpenMPDefaults
import Foundation
import Torch

/// `fmboost info`: what libtorch this binary runs on.
struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the libtorch version, thread count, CPU capability, BLAS/oneDNN use and the devices.")

  @OptionGroup var threading: ThreadsOption
  @Flag(help: "Also print libtorch's full build configuration.") var verbose = false

  /// What libgomp's threads do after a parallel region, as libgomp read it at start-up.
  static var spinDescription: String {
    if fmboost_openmp_spin_default_applied() != 0 {
      return "GOMP_SPINCOUNT=\(String(cString: fmboost_openmp_spin_default())) (this tool's default; set GOMP_SPINCOUNT or OMP_WAIT_POLICY to change it)"
    }
    let environment = ProcessInfo.processInfo.environment
    if let spin = environment["GOMP_SPINCOUNT"] { return "GOMP_SPINCOUNT=\(spin) (set by you)" }
    if let policy = environment["OMP_WAIT_POLICY"] { return "OMP_WAIT_POLICY=\(policy) (set by you)" }
    return "libgomp's default"
  }

  func run() throws {
    threading.apply()
    let info = try Runtime.buildInfo()
    print("libtorch        \(info.version)")
    print("threads         \(Runtime.threads) intra-op (\(Runtime.coreCount) cores online)")
    print("CPU capability  \(info.cpuCapability)")
    print("BLAS            \(info.blas); \(BLASCore.description)")
    print("oneDNN          \(info.usesOneDNN ? "yes" : "no")")
    print("OpenMP spin     \(Self.spinDescription)")
    print("Winograd 3x3    \(Runtime.winogradDescription)")
    print("devices         \(Devices.available.map(\.description).joined(separator: ", ")) (CUDA: \(Devices.cudaBuilt ? "in this build, \(Devices.cudaCount) device(s)" : "not in this build"); MPS: \(Devices.mpsAvailable ? "yes" : "no"))")
    if verbose { print("\n\(info.configuration)\n\(info.parallelism)") }
  }
}
