import Foundation

/// One unit of work of the server: upscaling an image or generating one, queued, run, and kept
/// for its result. Thread-safe: the compute thread writes progress, request handlers read it.
public final class Job: @unchecked Sendable {
  public enum State: String, Sendable, Codable {
    case queued, running, succeeded, failed, cancelled
    var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
  }

  public enum Work: Sendable {
    /// An encoded image, scaled by `scale` (×2 per stage, then resized to `size` when given).
    case upscale(image: Data, upscaler: String, scale: Double, size: (width: Int, height: Int)?)
    /// Text to image with the server's SD model.
    case generate(TextToImageRequest)
  }

  public let id: String
  public let work: Work
  public let created = Date()
  private let lock = NSLock()
  private var _state = State.queued
  private var _progress = 0.0
  private var _started: Date?
  private var _finished: Date?
  private var _result: [Data] = []
  private var _info = ""
  private var _error: String?
  private var _inputAtFault = false
  private var _cancelRequested = false
  private var waiters: [CheckedContinuation<Void, Never>] = []
  private var preview: String?

  init(id: String, work: Work) {
    self.id = id
    self.work = work
  }

  public var state: State { lock.withLock { _state } }
  /// 0…1.
  public var progress: Double { lock.withLock { _progress } }
  /// PNG files (one for an upscale, one per image for a generation).
  public var result: [Data] { lock.withLock { _result } }
  /// A1111's `parameters` text of a generation.
  public var info: String { lock.withLock { _info } }
  public var error: String? { lock.withLock { _error } }
  /// Whether it failed because of what the request sent (an image that does not decode), not the server.
  public var inputAtFault: Bool { lock.withLock { _inputAtFault } }
  public var isFinished: Bool { state.isFinal }
  var cancelRequested: Bool { lock.withLock { _cancelRequested } }

  /// The image being worked on, base64 (an upscale's input; nil for a generation), encoded once
  /// however often a client polls for it.
  public var currentImage: String? {
    guard case .upscale(let image, _, _, _) = work else { return nil }
    return lock.withLock {
      if preview == nil { preview = image.base64EncodedString() }
      return preview
    }
  }

  /// Seconds left, from the time per unit of progress so far (nil before any). Called with the lock held.
  private var etaLocked: Double? {
    guard let started = _started, _progress > 0.01, _finished == nil else { return nil }
    let elapsed = Date().timeIntervalSince(started)
    return elapsed / _progress - elapsed
  }

  public var eta: Double? { lock.withLock { etaLocked } }

  func start() -> Bool {
    lock.withLock {
      guard _state == .queued, !_cancelRequested else { return false }
      _state = .running
      _started = Date()
      return true
    }
  }

  /// Records progress; false when the job should stop (a pipeline's progress handler).
  func report(_ fraction: Double) -> Bool {
    lock.withLock {
      _progress = min(1, max(_progress, fraction))
      return !_cancelRequested
    }
  }

  /// Asks a queued or running job to stop; a running one stops at its next step.
  func cancel() {
    let finish = lock.withLock { () -> Bool in
      _cancelRequested = true
      return _state == .queued
    }
    if finish { self.finish(.cancelled, error: "cancelled") }
  }

  func finish(_ state: State, result: [Data] = [], info: String = "", error: String? = nil, inputAtFault: Bool = false) {
    let resumed = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
      guard !_state.isFinal else { return [] }
      (_state, _result, _info, _error, _finished, _inputAtFault) = (state, result, info, error, Date(), inputAtFault)
      if state == .succeeded { _progress = 1 }
      defer { waiters = [] }
      return waiters
    }
    resumed.forEach { $0.resume() }
  }

  /// Returns when the job has finished (at once if it has).
  public func finished() async {
    await withCheckedContinuation { continuation in
      let done = lock.withLock { () -> Bool in
        if _state.isFinal { return true }
        waiters.append(continuation)
        return false
      }
      if done { continuation.resume() }
    }
  }

  /// The job as the API shows it.
  public var status: JobStatus {
    lock.withLock {
      JobStatus(id: id, state: _state, progress: _progress, eta: etaLocked, error: _error, images: _result.count)
    }
  }
}

/// A job's state as JSON.
public struct JobStatus: Codable, Sendable {
  public let id: String
  public let state: Job.State
  public let progress: Double
  /// Seconds left (nil before any progress and once finished).
  public let eta: Double?
  public let error: String?
  public let images: Int
}
