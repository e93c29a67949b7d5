import Foundation
import Torch

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

  /// The project's own reference fixtures, `Tests/Fixtures/<name>` (made by `benchmarks/fixtures/*.py`).
  public static func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures").appendingPathComponent(name).path
  }
}

/// A fresh temporary directory for one test.
public func temporaryDirectory(_ label: String = "test") throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("fmboost-\(label)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// A process memory figure could not be read (no Linux /proc): the checks built on it cannot run.
public struct ProcessMemoryError: Error, CustomStringConvertible {
  public let reason: String
  public var description: String { "process memory unavailable: \(reason)" }
}

/// The `Vm…` line `field` of /proc/self/status, in bytes (the kernel writes it in kB).
private func procStatus(_ field: String) throws -> Int {
  guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
    throw ProcessMemoryError(reason: "cannot read /proc/self/status")
  }
  for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
    let fields = line.dropFirst(field.count + 1).split { $0 == " " || $0 == "\t" }
    guard fields.count == 2, fields[1] == "kB", let kilobytes = Int(fields[0]) else {
      throw ProcessMemoryError(reason: "cannot parse '\(line)' in /proc/self/status")
    }
    return kilobytes * 1024
  }
  throw ProcessMemoryError(reason: "/proc/self/status has no \(field) line")
}

/// Resident set size of this process in bytes (Linux /proc/self/statm); throws where it cannot be
/// read, so a memory check never passes on a made-up 0.
public func residentMemory() throws -> Int {
  guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else {
    throw ProcessMemoryError(reason: "cannot read /proc/self/statm")
  }
  let fields = text.split(separator: " ")
  guard fields.count > 1, let pages = Int(fields[1]), pages > 0 else {
    throw ProcessMemoryError(reason: "cannot parse /proc/self/statm ('\(text)')")
  }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The peak resident set size of this process in bytes since it started or since the last
/// `resetPeakResidentMemory()` (`VmHWM` of /proc/self/status). Memory allocated and freed again
/// inside a call shows here, where `residentMemory()` afterwards would miss it.
public func peakResidentMemory() throws -> Int {
  let peak = try procStatus("VmHWM")
  guard peak > 0 else { throw ProcessMemoryError(reason: "VmHWM in /proc/self/status is 0") }
  return peak
}

/// Resets the peak (`VmHWM`) to the current resident set size: writes "5" to
/// /proc/self/clear_refs (Linux ≥ 4.0). Throws where the kernel does not allow it.
public func resetPeakResidentMemory() throws {
  let path = "/proc/self/clear_refs"
  let fd = open(path, O_WRONLY)
  guard fd >= 0 else { throw ProcessMemoryError(reason: "cannot open \(path) for writing (\(String(cString: strerror(errno))))") }
  defer { close(fd) }
  let written = "5".withCString { write(fd, $0, 1) }
  guard written == 1 else { throw ProcessMemoryError(reason: "writing 5 to \(path) failed (\(String(cString: strerror(errno))))") }
}

/// Returns the memory freed so far to the system (glibc's `malloc_trim(0)`), so a later peak-RSS
/// check cannot pass by reusing it.
public func releaseFreedMemory() { Runtime.releaseFreedMemory() }
