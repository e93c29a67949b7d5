import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Writes files so that a reader sees either the old file or the complete new one: the bytes go to
/// a temporary file in the same folder, are flushed to disk, and the temporary file is renamed over
/// the target. A failure (a full disk, say) removes the temporary file and leaves the target as it was.
public enum AtomicFile {
  /// Calls `body` with a sink that appends bytes to the temporary file, then commits it to `url`.
  public static func write(to url: URL, _ body: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
    let path = url.path
    let directory = url.deletingLastPathComponent().path
    let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileError(file: path, "cannot create a file in \(directory): \(errnoText())") }
    var committed = false
    defer {
      if !committed {
        close(fd)
        unlink(temporary)
      }
    }
    try body { bytes in
      var offset = 0
      while offset < bytes.count {
        let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          throw FileError(file: path, "write failed: \(errnoText())")
        }
        offset += n
      }
    }
    guard fsync(fd) == 0 else { throw FileError(file: path, "flush failed: \(errnoText())") }
    guard close(fd) == 0 else {
      unlink(temporary)
      committed = true
      throw FileError(file: path, "close failed: \(errnoText())")
    }
    committed = true
    guard rename(temporary, path) == 0 else {
      let message = errnoText()
      unlink(temporary)
      throw FileError(file: path, "could not move the finished file into place: \(message)")
    }
    // Make the rename itself durable.
    let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dirFD >= 0 {
      fsync(dirFD)
      close(dirFD)
    }
  }

  /// Writes `data` atomically to `url`.
  public static func write(_ data: Data, to url: URL) throws {
    try write(to: url) { append in try data.withUnsafeBytes { try append($0) } }
  }

  static func errnoText() -> String { String(cString: strerror(errno)) }
}
