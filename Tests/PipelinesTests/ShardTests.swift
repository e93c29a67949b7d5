import Pipelines
import Testing

/// The split of a batch over processes, and the schedulers' environments it is read from.
@Suite struct ShardTests {
  @Test func everyInputIsInExactlyOneShard() throws {
    let inputs = (0..<23).map { InputFile(path: "/in/\(String(format: "%02d", ($0 * 7) % 23)).png", relative: "\($0).png") }
    let shards = try (0..<3).map { try Shard(index: $0, count: 3).select(inputs) }
    #expect(shards.map(\.count) == [8, 8, 7])
    #expect(Set(shards.flatMap { $0.map(\.path) }) == Set(inputs.map(\.path)) && shards.flatMap { $0 }.count == 23)
    // The split follows the sorted paths, not the order given.
    #expect(try Shard(index: 1, count: 3).select(inputs.reversed()).map(\.path) == shards[1].map(\.path))
    #expect(shards[0].first?.path == "/in/00.png" && shards[1].first?.path == "/in/01.png")
  }

  @Test func theSchedulersEnvironmentsNameTheShard() throws {
    #expect(try Shard.fromEnvironment([:]) == nil)
    #expect(try Shard.fromEnvironment(["RANK": "2", "WORLD_SIZE": "4"]) == Shard(index: 2, count: 4))
    #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "5"], count: 8) == Shard(index: 5, count: 8))
    #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "11", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_COUNT": "3"]) == Shard(index: 1, count: 3))
    #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"]) == Shard(index: 0, count: 2))
    #expect(try Shard.fromEnvironment(["AWS_BATCH_JOB_ARRAY_INDEX": "3", "AWS_BATCH_JOB_ARRAY_SIZE": "10"]) == Shard(index: 3, count: 10))
    #expect(try Shard(parsing: "1/3") == Shard(index: 1, count: 3))
    for (environment, count, words) in [
      (["RANK": "1"], nil, "WORLD_SIZE"), (["JOB_COMPLETION_INDEX": "1"], nil, "number of shards"),
      (["RANK": "4", "WORLD_SIZE": "4"], nil, "0…count−1"), (["RANK": "x", "WORLD_SIZE": "2"], nil, "not an integer"),
    ] as [([String: String], Int?, String)] {
      #expect { _ = try Shard.fromEnvironment(environment, count: count) } throws: { "\($0)".contains(words) }
    }
    #expect(throws: ShardError.self) { try Shard(parsing: "3/3") }
    #expect(throws: ShardError.self) { try Shard(parsing: "1-3") }
  }
}
