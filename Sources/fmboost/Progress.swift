import Foundation

/// A progress line on standard error: items done, ODE steps of the current item, elapsed time and
/// ETA. On a terminal it redraws in place; otherwise it prints at most every few seconds.
final class ProgressLine {
  let total: Int
  let label: String
  private let start = Date()
  private var lastPrint = Date.distantPast
  private let interactive = isatty(STDERR_FILENO) != 0
  var item = 0

  init(total: Int, label: String) {
    self.total = total
    self.label = label
  }

  func update(step: Int, of steps: Int) {
    let now = Date()
    guard interactive ? now.timeIntervalSince(lastPrint) > 0.1 : now.timeIntervalSince(lastPrint) > 5 || step == steps else { return }
    lastPrint = now
    let fraction = (Double(item) + Double(step) / Double(max(1, steps))) / Double(max(1, total))
    let elapsed = now.timeIntervalSince(start)
    let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
    let width = 24, filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let text = "\(label) \(item + 1)/\(total) [\(bar)] step \(step)/\(steps) \(Self.clock(elapsed)) ETA \(Self.clock(eta))"
    FileHandle.standardError.write(Data((interactive ? "\r\(text)\u{1B}[K" : text + "\n").utf8))
  }

  func finishLine() {
    if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }

  static func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
  }
}
