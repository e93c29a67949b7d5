import Foundation

/// metrics.csv: one row per log or validation event, flushed as written, appended on resume.
final class CSVLog {
  let url: URL
  let columns: [String]

  init(url: URL, columns: [String]) throws {
    self.url = url
    self.columns = columns
    if !FileManager.default.fileExists(atPath: url.path) {
      try Data((columns.joined(separator: ",") + "\n").utf8).write(to: url)
    }
  }

  func append(_ values: [String: String]) throws {
    let line = columns.map { values[$0] ?? "" }.joined(separator: ",") + "\n"
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(line.utf8))
  }
}
