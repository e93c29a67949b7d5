import Foundation

/// The seconds each stage of a pipeline took, for the caller's summary line.
public final class StageTimes: @unchecked Sendable {
  private var stages: [(name: String, seconds: Double)] = []
  private let lock = NSLock()

  public init() {}

  public func stage<T>(_ name: String, _ work: () throws -> T) rethrows -> T {
    let start = Date()
    defer {
      let seconds = Date().timeIntervalSince(start)
      lock.withLock { stages.append((name, seconds)) }
    }
    return try work()
  }

  /// "load 3.1 s, sample 1 (25 steps) 40.2 s, ..." of the stages since the last summary.
  public func summary() -> String {
    lock.withLock {
      defer { stages.removeAll() }
      return stages.map { String(format: "%@ %.1f s", $0.name, $0.seconds) }.joined(separator: ", ")
    }
  }
}
