import Dispatch

/// Prepares the next training batch on a background queue while the current step runs. Batches
/// are pure functions of their index, so prefetching never changes what a run sees.
final class BatchPrefetcher: @unchecked Sendable {
  private let data: TrainingData
  private let batchSize: Int
  /// How far apart consecutive requests are (the number of ranks).
  private let stride: Int
  private let queue = DispatchQueue(label: "fmboost.prefetch")
  /// The batch prepared ahead; read and written only on `queue`.
  private var ahead: (index: Int, result: Result<Batch, Error>)?

  init(data: TrainingData, batchSize: Int, stride: Int = 1) {
    self.data = data
    self.batchSize = batchSize
    self.stride = stride
  }

  /// Batch `index` (from the prefetched one when it is that), then starts preparing `index + 1`.
  func batch(_ index: Int) throws -> Batch {
    let result: Result<Batch, Error> = queue.sync {
      defer { ahead = nil }
      if let prepared = ahead, prepared.index == index { return prepared.result }
      return Result(catching: { try data.batch(index, batchSize: batchSize) })
    }
    queue.async { [self] in
      ahead = (index + stride, Result(catching: { try data.batch(index + stride, batchSize: batchSize) }))
    }
    return try result.get()
  }
}
