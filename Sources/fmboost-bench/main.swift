// fmboost-bench: micro-benchmarks of the Swift layer (never part of `make test`).
// Usage: fmboost-bench conv2d [--iterations N] [--threads N]
import Foundation
import Torch

struct Options {
  var item = "conv2d"
  var iterations = 20
  var threads: Int?

  init(_ arguments: [String]) throws {
    var rest = arguments[...]
    if let first = rest.first, !first.hasPrefix("-") { item = first; rest = rest.dropFirst() }
    while let flag = rest.popFirst() {
      guard let value = rest.popFirst(), let n = Int(value), n > 0 else {
        throw TorchError.invalidArgument("\(flag) needs a positive integer")
      }
      switch flag {
      case "--iterations": iterations = n
      case "--threads": threads = n
      default: throw TorchError.invalidArgument("unknown option \(flag)")
      }
    }
  }
}

func median(_ values: [Double]) -> Double {
  let s = values.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// conv2d forward, 256 -> 256 channels, 3x3, padding 1, 64x64, batch 1.
func benchConv2d(iterations: Int) throws {
  let g = try Generator(seed: 0)
  let x = try Tensor.randn([1, 256, 64, 64], generator: g)
  let w = try Tensor.randn([256, 256, 3, 3], generator: g) * 0.02
  let b = try Tensor.randn([256], generator: g)
  let flop = 2.0 * 256 * 256 * 9 * 64 * 64
  try withNoGrad {
    for _ in 0..<3 { _ = try x.conv2d(w, bias: b, padding: (1, 1)) }
    var times: [Double] = []
    for _ in 0..<iterations {
      times.append(try seconds { _ = try x.conv2d(w, bias: b, padding: (1, 1)) })
    }
    let m = median(times)
    print(String(format: "swift    conv2d 256->256 3x3 64x64 b1: median %.2f ms, %.1f GFLOP/s (%.2f GFLOP, %d threads)",
                 m * 1e3, flop / m / 1e9, flop / 1e9, Runtime.threads))
  }
}

do {
  let options = try Options(Array(CommandLine.arguments.dropFirst()))
  if let threads = options.threads { Runtime.threads = threads }
  switch options.item {
  case "conv2d": try benchConv2d(iterations: options.iterations)
  default: throw TorchError.invalidArgument("unknown benchmark '\(options.item)' (known: conv2d)")
  }
} catch {
  FileHandle.standardError.write(Data("fmboost-bench: \(error)\n".utf8))
  exit(1)
}
