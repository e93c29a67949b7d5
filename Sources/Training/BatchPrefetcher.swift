import Dispatch
import Foundation

/// Prepares the next `workers` training batches on background threads while the current step
/// runs (`data.params.num_workers`; 0 builds each batch on the caller's thread). Batches are pure
/// functions of their index, so prefetching never changes what a run sees. Work in flight never
/// outlives the prefetcher: its end waits for it (a batch still being built while the process
/// exits would run into libtorch's teardown).
final class BatchPrefetcher: @unchecked Sendable {
  /// One batch being prepared: its result, once the worker has finished.
  private final class Slot: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var result: Result<Batch, Error>?
  }

  private let data: TrainingData
  private let batchSize: Int
  /// How far apart consecutive requests are (the number of ranks).
  private let stride: Int
  private let workers: Int
  private let queue = DispatchQueue(label: "fmboost.prefetch", attributes: .concurrent)
  private let inFlight = DispatchGroup()
  private let lock = NSLock()
  private var slots: [Int: Slot] = [:]

  init(data: TrainingData, batchSize: Int, stride: Int = 1, workers: Int = 1) {
    self.data = data
    self.batchSize = batchSize
    self.stride = stride
    self.workers = workers
  }

  deinit { finish() }

  /// Waits for the batches being prepared (the end of a run).
  func finish() { inFlight.wait() }

  /// Batch `index` (waiting for its worker when it is being prepared), then starts preparing the
  /// `workers` batches after it.
  func batch(_ index: Int) throws -> Batch {
    lock.lock()
    let slot = slots.removeValue(forKey: index)
    slots = slots.filter { $0.key > index }
    for k in 1...max(1, workers) where workers > 0 {
      let next = index + k * stride
      guard slots[next] == nil else { continue }
      let prepared = Slot()
      slots[next] = prepared
      // Not self: the prefetcher's end waits for this work. Batches are read-only work on `data`.
      nonisolated(unsafe) let data = data
      let batchSize = batchSize
      queue.async(group: inFlight) {
        prepared.result = Result(catching: { try data.batch(next, batchSize: batchSize) })
        prepared.done.signal()
      }
    }
    lock.unlock()
    guard let slot else { return try data.batch(index, batchSize: batchSize) }
    slot.done.wait()
    return try slot.result!.get()
  }
}
