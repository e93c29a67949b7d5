import Foundation

/// Where a training run writes: `<logs>/<name>_<timestamp>/` with its config.yaml, metrics.csv,
/// samples and `checkpoints/`.
public enum RunFolder {
  /// A new `<logs>/<name>_<timestamp>` path (not created).
  public static func new(logs: String, name: String) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd-HH-mm-ss"
    return "\(logs)/\(name)_\(formatter.string(from: Date()))"
  }

  /// The run folder a checkpoint belongs to: `<run>/checkpoints/<file>` where `<run>` holds the
  /// config.yaml and metrics.csv a run writes; nil for a checkpoint anywhere else.
  public static func containing(checkpoint: String) -> URL? {
    let folder = URL(fileURLWithPath: checkpoint).standardizedFileURL.deletingLastPathComponent()
    guard folder.lastPathComponent == "checkpoints" else { return nil }
    let run = folder.deletingLastPathComponent()
    let fm = FileManager.default
    guard fm.fileExists(atPath: run.appendingPathComponent("config.yaml").path),
      fm.fileExists(atPath: run.appendingPathComponent("metrics.csv").path)
    else { return nil }
    return run
  }

  /// The checkpoint to resume the newest run of `name` from: the more recent of its
  /// `last.safetensors` and `interrupted.safetensors`.
  public static func newestCheckpoint(logs: String, name: String) throws -> String {
    let fm = FileManager.default
    let runs = ((try? fm.contentsOfDirectory(atPath: logs)) ?? []).filter { $0.hasPrefix(name + "_") }.sorted()
    for run in runs.reversed() {
      let candidates = ["last", "interrupted"].map { "\(logs)/\(run)/checkpoints/\($0).safetensors" }
      let dated = candidates.compactMap { path in
        (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date).map { (path, $0) }
      }
      if let newest = dated.max(by: { $0.1 < $1.1 }) { return newest.0 }
    }
    throw ConfigError("no checkpoint to resume: no \(logs)/\(name)_*/checkpoints/last.safetensors")
  }
}
