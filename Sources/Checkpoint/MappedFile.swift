import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A file mapped read-only into memory, as `Data` that unmaps it when released. The pages of a
/// part already copied out can be given back (`release`), so reading a large file tensor by
/// tensor keeps one copy of the weights resident, not two.
enum MappedFile {
  static func map(_ path: String) throws -> Data {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw CheckpointError(file: path, "cannot read the file (\(String(cString: strerror(errno))))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw CheckpointError(file: path, "cannot read the file (\(String(cString: strerror(errno))))") }
    let size = Int(info.st_size)
    guard size > 0 else { return Data() }
    guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
      throw CheckpointError(file: path, "cannot map the file (\(String(cString: strerror(errno))))")
    }
    return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
  }

  /// Drops the whole pages inside `bytes` (part of a mapping made by `map`) from this process's
  /// resident memory; reading them again reads the file.
  static func release(_ bytes: UnsafeRawBufferPointer) {
    guard let start = bytes.baseAddress else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let first = (Int(bitPattern: start) + page - 1) / page * page
    let end = (Int(bitPattern: start) + bytes.count) / page * page
    guard end > first else { return }
    madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, MADV_DONTNEED)
  }
}
