import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A minimal HTTP/1.1 client over a loopback socket, for driving the server in tests with exactly
/// the bytes, headers and disconnects a test needs (`Connection: close`; chunked bodies decoded).
public enum LoopbackHTTP {
  public struct Reply: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: Data
    public var text: String { String(decoding: body, as: UTF8.self) }
    public func json() throws -> [String: Any] {
      guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else { throw URLError(.cannotParseResponse) }
      return object
    }
  }

  /// A connected socket to 127.0.0.1:`port`.
  public static func connect(port: Int, timeout: Double = 300) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw URLError(.cannotConnectToHost) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard connected else {
      close(fd)
      throw URLError(.cannotConnectToHost)
    }
    return fd
  }

  /// The request's bytes.
  public static func encode(_ method: String, _ path: String, port: Int, headers: [String: String] = [:], body: Data = Data()) -> Data {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    return Data((head + "\r\n").utf8) + body
  }

  public static func send(_ fd: Int32, _ data: Data) throws {
    try data.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
        guard n > 0 else { throw URLError(.networkConnectionLost) }
        offset += n
      }
    }
  }

  public static func request(_ method: String, _ path: String, port: Int, headers: [String: String] = [:], body: Data = Data()) throws -> Reply {
    let fd = try connect(port: port)
    defer { close(fd) }
    try send(fd, encode(method, path, port: port, headers: headers, body: body))
    var response = Data()
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = recv(fd, &buffer, buffer.count, 0)
      if n <= 0 { break }
      response.append(contentsOf: buffer[0..<n])
    }
    return try parse(response)
  }

  static func parse(_ response: Data) throws -> Reply {
    guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { throw URLError(.badServerResponse) }
    let lines = String(decoding: response[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
    guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { throw URLError(.badServerResponse) }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var body = Data(response[split.upperBound...])
    if headers["transfer-encoding"]?.lowercased() == "chunked" { body = try dechunk(body) }
    return Reply(status: status, headers: headers, body: body)
  }

  static func dechunk(_ data: Data) throws -> Data {
    var out = Data(), cursor = data.startIndex
    while let lineEnd = data.range(of: Data("\r\n".utf8), in: cursor..<data.endIndex) {
      guard let size = Int(String(decoding: data[cursor..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";")[0], radix: 16) else {
        throw URLError(.badServerResponse)
      }
      if size == 0 { break }
      let start = lineEnd.upperBound
      guard start + size <= data.endIndex else { throw URLError(.badServerResponse) }
      out.append(data[start..<start + size])
      cursor = start + size + 2
    }
    return out
  }

  /// A multipart/form-data body with these parts, and its content type.
  public static func multipart(_ parts: [(name: String, filename: String?, data: Data)]) -> (body: Data, contentType: String) {
    let boundary = "fmboost-test-\(UUID().uuidString)"
    var body = Data()
    for part in parts {
      let filename = part.filename.map { "; filename=\"\($0)\"" } ?? ""
      body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\"\(filename)\r\n\r\n".utf8) + part.data + Data("\r\n".utf8)
    }
    body += Data("--\(boundary)--\r\n".utf8)
    return (body, "multipart/form-data; boundary=\(boundary)")
  }
}
