import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Locations of the read-only fixtures beside the repository (`../shared`), or `$FMBOOST_SHARED`.
public enum Shared {
  public static var root: String {
    if let custom = ProcessInfo.processInfo.environment["FMBOOST_SHARED"] { return custom }
    // Tests/TestSupport/Shared.swift -> repository root -> ../shared
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return repo.deletingLastPathComponent().appendingPathComponent("shared").path
  }

  public static func golden(_ name: String) -> String { root + "/golden/" + name }
  public static func weights(_ name: String) -> String { root + "/weights/" + name }
}

/// A fresh temporary directory for one test.
public func temporaryDirectory(_ label: String = "test") throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("fmboost-\(label)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// Resident set size of this process in bytes (Linux /proc/self/statm).
public func residentMemory() -> Int {
  guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
  let fields = text.split(separator: " ")
  guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
