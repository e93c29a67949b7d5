import ArgumentParser
import Pipelines
import Torch

/// `--threads N`, the same in every command.
struct ThreadsOption: ParsableArguments {
  static let limit = 1024

  @Option(help: "Intra-op threads (default: every core, or $FMBOOST_THREADS).") var threads: Int?

  func validate() throws {
    if let threads, !(1...Self.limit).contains(threads) { throw ValidationError("--threads must be between 1 and \(Self.limit), got \(threads)") }
  }

  /// Applies the setting to libtorch (nothing when not given).
  func apply() { if let threads { Runtime.threads = threads } }
}

/// `--device D`, where the networks run (checked when the command runs: one line if it is not there).
struct DeviceOption: ParsableArguments {
  @Option(help: "Where the networks run: cpu, cuda, cuda:N, mps, or auto (the first GPU, else the CPU).") var device = "cpu"

  func resolve() throws -> Device { try Devices.resolve(device) }
}

/// `--shard I/N` and `--shards N`: this process's part of a batch spread over machines.
struct ShardOption: ParsableArguments {
  @Option(help: "Only shard I of N (0-based) of the sorted inputs, skipping outputs already written, with a manifest (default: from RANK/WORLD_SIZE, SLURM_ARRAY_TASK_ID/_COUNT, AWS_BATCH_JOB_ARRAY_INDEX/_SIZE, or JOB_COMPLETION_INDEX with --shards).") var shard: String?
  @Option(help: "The number of shards, for an environment that gives only the index (a Kubernetes Indexed Job).") var shards: Int?

  func resolve() throws -> Shard? { try shard.map(Shard.init(parsing:)) ?? Shard.fromEnvironment(count: shards) }

  /// What every shard's manifest in `folder` says, after this one's work (failed inputs or not).
  static func printCompleteness(folder: String) { if let report = try? Manifest.check(folder: folder) { print(report.summary) } }
}

/// `--force`, the same in every command that writes files.
struct ForceOption: ParsableArguments {
  @Flag(help: "Overwrite existing outputs.") var force = false
}

/// `--model M`, `--scale N` or `--cascade K`: the CFM model of `upsample` and `eval` (by default
/// the shipped one for the scale) and how many of its stages run.
struct ModelOption: ParsableArguments {
  @Option(help: "CFM weights: a Lightning .ckpt of the original, or safetensors (with its config in the metadata). Default: the shipped models/default-2x.safetensors (default-4x for --scale 4 where it was made).") var model: String?
  @Option(help: "Make sides this many times larger (2, 4, ...) with the model's stages that reach it. Default: one stage.") var scale: Int?
  @Option(help: "Instead of --scale, the number of stages of the model (a ×2 model's 2 take 512 → 2048 px).") var cascade: Int?

  func validate() throws {
    guard (1...4).contains(cascade ?? 1), (2...256).contains(scale ?? 2), cascade == nil || scale == nil else { throw ValidationError("--cascade must be 1 to 4 and --scale 2 to 256, not both") }
  }

  func configuration(vae: String?) -> UpsamplingPipeline.Configuration { .init(model: model, autoencoder: vae.map(vaePaths), scale: scale ?? 2) }

  /// The stages of `pipeline` that reach --scale, else --cascade.
  func stages(of pipeline: UpsamplingPipeline) throws -> Int { try scale.map(pipeline.stages(forScale:)) ?? cascade ?? 1 }
}

/// `--seed S`: the noise-augmentation draws of x0 (the same for every image).
struct SeedOption: ParsableArguments {
  @Option(help: "Random seed for the noise augmentation, when the model uses it.") var seed: UInt64 = 2024
}

/// `-o DIR`, in every command that writes one file per input.
struct OutputFolderOption: ParsableArguments {
  @Option(name: .shortAndLong, help: "Output folder.") var output: String
}

/// `--precision fp32|bf16|fp16`: the inference precision. bf16 and fp16 run the networks under CPU
/// autocast (convolutions and matrix products in the reduced type, norms and the ODE state in
/// float32); libtorch 1.13 offers bf16 only.
struct PrecisionOption: ParsableArguments {
  enum Precision: String, CaseIterable, ExpressibleByArgument {
    case fp32, bf16, fp16
    var dtype: DType? { self == .fp32 ? nil : self == .bf16 ? .bfloat16 : .float16 }
  }

  @Option(help: "Inference precision: fp32, or bf16/fp16 under autocast (faster only on CPUs with AMX; see docs/benchmarks.md).") var precision: Precision = .fp32

  func validate() throws {
    if let dtype = precision.dtype, !autocastSupports(dtype), !autocastSupports(dtype, on: .cuda(0)) {
      throw ValidationError("--precision \(precision.rawValue): this libtorch's CPU autocast cannot compute in \(dtype) (libtorch 1.13 has bf16 only); use fp32 or bf16")
    }
  }
}
