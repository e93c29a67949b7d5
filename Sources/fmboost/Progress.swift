import Foundation
import Pipelines

/// A progress line on standard error: items done, steps of the current item, elapsed time and
/// ETA. On a terminal it redraws in place; otherwise it prints at most every few seconds.
final class ProgressLine {
  let label: String
  private let start = Date()
  private var lastPrint = Date.distantPast
  private let interactive = isatty(STDERR_FILENO) != 0

  init(label: String) { self.label = label }

  /// Draws `p`; always goes on (a pipeline's progress handler).
  func update(_ p: PipelineProgress) -> Bool {
    let now = Date()
    let step = p.stage * p.steps + p.step, steps = p.steps * p.stages
    guard interactive ? now.timeIntervalSince(lastPrint) > 0.1 : now.timeIntervalSince(lastPrint) > 5 || step == steps else { return true }
    lastPrint = now
    let fraction = p.fraction, elapsed = now.timeIntervalSince(start)
    let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
    let width = 24, filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let text = "\(label) \(p.item + 1)/\(p.items) [\(bar)] step \(step)/\(steps) \(Self.clock(elapsed)) ETA \(Self.clock(eta))"
    FileHandle.standardError.write(Data((interactive ? "\r\(text)\u{1B}[K" : text + "\n").utf8))
    return true
  }

  func finishLine() { if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }

  /// Prints a batch's outcomes: `[i/n] verb INPUT -> OUTPUT (s)`, or the error on standard error.
  func reporting(verb: String) -> (FileBatch.Outcome) -> Void {
    { outcome in
      self.finishLine()
      let position = "[\(outcome.index + 1)/\(outcome.count)]"
      switch outcome.result {
      case .success(let done):
        print("\(position) \(done.skipped ? "skipped" : verb) \(outcome.input.path) -> \(done.summary) (\(String(format: "%.2f", outcome.seconds)) s)")
      case .failure(let error):
        FileHandle.standardError.write(Data("\(position) error: \(CommandError.describe(error))\n".utf8))
      }
    }
  }

  static func clock(_ seconds: Double) -> String { String(format: "%d:%02d", Int(seconds.rounded()) / 60, Int(seconds.rounded()) % 60) }
}
