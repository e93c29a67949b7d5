import Foundation

/// One of `count` processes' part of a batch: the inputs, sorted by path, whose position modulo
/// `count` is `index`. Every input is in exactly one shard, and the split depends only on the inputs.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
  public let index: Int
  public let count: Int

  public init(index: Int, count: Int) throws {
    guard count >= 1, (0..<count).contains(index) else { throw ShardError("shard \(index) of \(count): the index must be 0…count−1") }
    (self.index, self.count) = (index, count)
  }

  /// `I/N`, 0 ≤ I < N.
  public init(parsing text: String) throws {
    let parts = text.split(separator: "/")
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { throw ShardError("'\(text)' is not I/N (for example 0/3)") }
    try self.init(index: i, count: n)
  }

  public var description: String { "\(index)/\(count)" }

  /// The shard the common schedulers' environment names, nil when none does: torchrun's
  /// `RANK`/`WORLD_SIZE`; a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` (with `count`, its
  /// completions); a Slurm array's `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of
  /// `SLURM_ARRAY_TASK_COUNT`; an AWS Batch array's `AWS_BATCH_JOB_ARRAY_INDEX` of
  /// `AWS_BATCH_JOB_ARRAY_SIZE` (set by the job definition).
  public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment, count: Int? = nil) throws -> Shard? {
    func integer(_ name: String) throws -> Int? {
      guard let text = environment[name] else { return nil }
      guard let value = Int(text) else { throw ShardError("\(name)=\(text) is not an integer") }
      return value
    }
    func needing(_ name: String, for variable: String) throws -> Int {
      guard let value = try count ?? integer(name) else { throw ShardError("\(variable) is set but not \(name) (or the number of shards)") }
      return value
    }
    if let rank = try integer("RANK") { return try Shard(index: rank, count: try needing("WORLD_SIZE", for: "RANK")) }
    if let index = try integer("JOB_COMPLETION_INDEX") {
      guard let count else { throw ShardError("JOB_COMPLETION_INDEX is set: give the number of shards (the job's completions)") }
      return try Shard(index: index, count: count)
    }
    if let task = try integer("SLURM_ARRAY_TASK_ID") {
      return try Shard(index: task - (try integer("SLURM_ARRAY_TASK_MIN") ?? 0), count: try needing("SLURM_ARRAY_TASK_COUNT", for: "SLURM_ARRAY_TASK_ID"))
    }
    if let index = try integer("AWS_BATCH_JOB_ARRAY_INDEX") {
      return try Shard(index: index, count: try needing("AWS_BATCH_JOB_ARRAY_SIZE", for: "AWS_BATCH_JOB_ARRAY_INDEX"))
    }
    return nil
  }

  /// This shard's inputs: all of them sorted by path, every `count`-th from `index`.
  public func select(_ inputs: [InputFile]) -> [InputFile] {
    inputs.sorted { $0.path < $1.path }.enumerated().filter { $0.offset % count == index }.map(\.element)
  }
}

/// A shard that cannot be: its index, count or environment.
public struct ShardError: Error, CustomStringConvertible, Equatable {
  public let description: String
  init(_ description: String) { self.description = description }
}
