// fmboost-fuzz: the checkpoint readers under a seeded mutation fuzzer.
// Usage: fmboost-fuzz --seconds N [--seed S] [--out DIR] [--safetensors] SEED_FILE...
// Seed files are torch.save checkpoints or safetensors files (recognised by content);
// --safetensors adds a small safetensors seed written by the project's writer (DIR/seed.safetensors).
// Every input is written to DIR/current.ckpt before it is loaded, so a crash leaves it behind;
// findings (errors other than CheckpointError, inconsistent reads) are saved as DIR/finding-<n>.ckpt.
import Foundation
import TestSupport

var arguments = Array(CommandLine.arguments.dropFirst())
var seconds = 60.0, seed: UInt64 = 1, out = "fuzz-out"
var seedFiles: [String] = []
var safetensorsSeed = false
while !arguments.isEmpty {
  let a = arguments.removeFirst()
  if a == "--safetensors" {
    safetensorsSeed = true
    continue
  }
  if a.hasPrefix("--") && arguments.isEmpty {
    FileHandle.standardError.write(Data("\(a) needs a value\n".utf8))
    exit(2)
  }
  switch a {
  case "--seconds": seconds = Double(arguments.removeFirst()) ?? seconds
  case "--seed": seed = UInt64(arguments.removeFirst()) ?? seed
  case "--out": out = arguments.removeFirst()
  default: seedFiles.append(a)
  }
}
guard !seedFiles.isEmpty || safetensorsSeed else {
  FileHandle.standardError.write(Data("usage: fmboost-fuzz --seconds N [--seed S] [--out DIR] [--safetensors] SEED_FILE...\n".utf8))
  exit(2)
}
let directory = URL(fileURLWithPath: out)
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let fuzzer = try CheckpointFuzzer(seedFiles: seedFiles, seed: seed, scratch: directory, safetensorsSeed: safetensorsSeed)
var findings = 0
try fuzzer.run(until: Date().addingTimeInterval(seconds)) { finding in
  findings += 1
  try? finding.input.write(to: directory.appendingPathComponent("finding-\(findings).ckpt"))
  print("finding \(findings): \(finding.error)")
}
// fuzz.sh reads fields 2 (executions) and 8 (findings); new fields go at the end.
print("executions \(fuzzer.executions) loaded \(fuzzer.accepted) rejected \(fuzzer.rejected) findings \(findings) safetensors \(fuzzer.safetensorsExecutions)")
exit(findings == 0 ? 0 : 1)
