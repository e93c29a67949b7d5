import Foundation

/// The server's jobs: at most `capacity` waiting or running (one more is refused with the seconds
/// to wait), `concurrency` computing at once on their own threads, finished ones kept for their
/// results until `kept` newer ones have finished.
final class JobQueue: @unchecked Sendable {
  let capacity: Int
  let concurrency: Int
  let kept: Int
  private let engine: Engine
  private let lock = NSLock()
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
  var load: (running: [Job], waiting: Int, outcomes: [String: Int]) { lock.withLock { (running, waiting.count, outcomes) } }

  /// Cancels a job: a waiting one ends at once, a running one at its next step.
  func cancel(_ job: Job) {
    job.cancel()
    startWaiting()
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
    for job in all { await job.finished() }
  }

  private func startWaiting() {
    let starting = lock.withLock { () -> [Job] in
      finished += waiting.filter(\.isFinished)
      waiting.removeAll { $0.isFinished }
      trimFinished()
      var starting: [Job] = []
      while running.count < concurrency, !waiting.isEmpty {
        let job = waiting.removeFirst()
        running.append(job)
        starting.append(job)
      }
      return starting
    }
    for job in starting {
      let thread = Thread { [self] in
        let start = Date()
        engine.run(job)
        completed(job, seconds: Date().timeIntervalSince(start))
      }
      thread.stackSize = 16 << 20  // the pipelines run as deep as on the main thread
      thread.start()
    }
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
    startWaiting()
  }
}
