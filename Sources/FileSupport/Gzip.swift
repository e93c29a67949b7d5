import Foundation
import ZIPFoundation

/// Reads a gzip file (RFC 1952, one member) with the deflate decoder the zip reader uses; the
/// stored CRC-32 and length are checked.
public enum Gzip {
  public static func decompress(_ data: Data, file: String) throws -> Data {
    let bytes = [UInt8](data)
    guard bytes.count >= 18, bytes[0] == 0x1F, bytes[1] == 0x8B, bytes[2] == 8 else {
      throw FileError(file: file, "not a gzip file (deflate)")
    }
    let flags = bytes[3]
    var offset = 10
    func skip(_ n: Int) throws {
      offset += n
      guard offset <= bytes.count - 8 else { throw FileError(file: file, "gzip header runs past the end of the file") }
    }
    func skipZeroTerminated() throws {
      while offset < bytes.count - 8, bytes[offset] != 0 { offset += 1 }
      try skip(1)
    }
    if flags & 0x04 != 0 { try skip(2 + (Int(bytes[offset]) | Int(bytes[offset + 1]) << 8)) }  // FEXTRA
    if flags & 0x08 != 0 { try skipZeroTerminated() }  // FNAME
    if flags & 0x10 != 0 { try skipZeroTerminated() }  // FCOMMENT
    if flags & 0x02 != 0 { try skip(2) }  // FHCRC
    let end = bytes.count - 8
    func le32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
    var output = Data()
    let crc: UInt32
    do {
      crc = try Data.decompress(size: Int64(end - offset), bufferSize: 1 << 16, skipCRC32: false, provider: { position, size in
        let start = offset + Int(position)
        return Data(bytes[start..<min(start + size, end)])
      }, consumer: { output.append($0) })
    } catch {
      throw FileError(file: file, "corrupt gzip data (\(error))")
    }
    guard crc == le32(end), UInt32(truncatingIfNeeded: output.count) == le32(end + 4) else {
      throw FileError(file: file, "gzip CRC-32 or length does not match the data")
    }
    return output
  }
}
