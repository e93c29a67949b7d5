import FileSupport
import Foundation

extension AblationStudy {
  /// Each finished run's loss over the last third of its steps: the mean of the batch losses its
  /// metrics.csv logged there. Runs still training are left out.
  public func trainingLosses() throws -> [String: Double] {
    let longest = plan.lengths.max() ?? 1
    var losses: [String: Double] = [:]
    for run in runs where FileManager.default.fileExists(atPath: checkpoint(run, step: longest).path) {
      let url = folder.appendingPathComponent("runs/\(run.name)/metrics.csv")
      guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
      let rows = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
      guard let header = rows.first, let stepColumn = header.firstIndex(of: "step"), let lossColumn = header.firstIndex(of: "loss") else {
        throw FileError(file: url.path, "no step and loss columns in its header")
      }
      // By step: a resumed run logs again the steps after its checkpoint; the later row counts.
      var late: [Int: Double] = [:]
      for row in rows.dropFirst() where row.count > max(stepColumn, lossColumn) {
        if let step = Int(row[stepColumn]), 3 * step > 2 * longest, let loss = Double(row[lossColumn]) { late[step] = loss }
      }
      if !late.isEmpty { losses[run.name] = Estimate(Array(late.values)).mean }
    }
    return losses
  }
}
