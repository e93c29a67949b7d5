import Foundation
import Torch

/// The server's jobs: at most `capacity` waiting or running (one more is refused with the seconds
/// to wait), computed by `concurrency` worker threads that live as long as the queue (libtorch's
/// OpenMP team and caches belong to a thread: a thread per job would pay for them each time),
/// finished ones kept for their results until `kept` newer ones have finished.
final class JobQueue: @unchecked Sendable {
  let capacity: Int
  let concurrency: Int
  let kept: Int
  private let engine: Engine
  private let lock = NSCondition()
  private var jobs: [String: Job] = [:]
  private var waiting: [Job] = []
  private var running: [Job] = []
  private var finished: [Job] = []
  private var accepting = true
  private var outcomes: [String: Int] = [:]
  private var countedFinished = 0
  /// Seconds the last jobs took, for Retry-After.
  private var lastSeconds = 10.0

  init(engine: Engine, capacity: Int, concurrency: Int, kept: Int) {
    (self.engine, self.capacity, self.concurrency, self.kept) = (engine, capacity, concurrency, kept)
    let threads = Runtime.threads  // as the command set them, on this thread
    for _ in 0..<concurrency {
      let worker = Thread { [self] in
        Runtime.threads = threads
        while let job = next() {
          let start = Date()
          engine.run(job)
          completed(job, seconds: Date().timeIntervalSince(start))
        }
      }
      worker.stackSize = 16 << 20  // the pipelines run as deep as on the main thread
      worker.start()
    }
  }

  /// Queues `work`; a full queue or a stopping server is an `APIError` (429, 503).
  func submit(_ work: Job.Work) throws -> Job {
    let job = Job(id: UUID().uuidString.lowercased(), work: work)
    try lock.withLock {
      guard accepting else { throw APIError(.serviceUnavailable, "the server is shutting down") }
      guard waiting.count + running.count < capacity else {
        let wait = Int((lastSeconds * Double(waiting.count + 1) / Double(concurrency)).rounded(.up))
        throw APIError(.tooManyRequests, "the queue is full (\(capacity) jobs)", retryAfter: max(1, wait))
      }
      jobs[job.id] = job
      waiting.append(job)
    }
    startWaiting()
    return job
  }

  func job(_ id: String) -> Job? { lock.withLock { jobs[id] } }

  /// The jobs computing now, how many wait, and how many ended in each state.
  /// A job the engine has just finished is still in `running` until its worker moves it (after its
  /// waiter may already have answered), so finished ones are left out here.
  var load: (running: [Job], waiting: Int, outcomes: [String: Int]) { lock.withLock { (running.filter { !$0.isFinished }, waiting.count, outcomes) } }

  /// Cancels a job: a waiting one ends at once, a running one at its next step.
  func cancel(_ job: Job) {
    job.cancel()
    lock.withLock { sweepWaiting() }
  }

  /// Cancels what runs (A1111's interrupt).
  func cancelRunning() { lock.withLock { running }.forEach { $0.cancel() } }

  /// Stops accepting jobs, cancels every job, and returns when none runs.
  func shutdown() async {
    let all = lock.withLock { () -> [Job] in
      accepting = false
      return waiting + running
    }
    all.forEach { $0.cancel() }
    lock.withLock {
      sweepWaiting()
      lock.broadcast()
    }
    for job in all { await job.finished() }
  }

  /// The next job to run, waiting for one; nil once the queue has stopped.
  private func next() -> Job? {
    lock.withLock {
      while true {
        sweepWaiting()
        if !waiting.isEmpty {
          let job = waiting.removeFirst()
          running.append(job)
          return job
        }
        if !accepting { return nil }
        lock.wait()
      }
    }
  }

  /// Wakes the workers (a job came, one was cancelled, or the queue stops).
  private func startWaiting() { lock.withLock { lock.broadcast() } }

  /// Moves cancelled waiting jobs to the finished ones. Called with the lock held.
  private func sweepWaiting() {
    finished += waiting.filter(\.isFinished)
    waiting.removeAll { $0.isFinished }
    trimFinished()
  }

  /// Called with the lock held.
  private func trimFinished() {
    for job in finished[countedFinished...] { outcomes[job.state.rawValue, default: 0] += 1 }
    countedFinished = finished.count
    while finished.count > kept {
      jobs[finished.removeFirst().id] = nil
      countedFinished -= 1
    }
  }

  private func completed(_ job: Job, seconds: Double) {
    lock.withLock {
      running.removeAll { $0 === job }
      if job.state == .succeeded { lastSeconds = seconds }
      finished.append(job)
      trimFinished()
    }
  }
}
