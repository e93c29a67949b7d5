import Foundation
import Imaging
import Server
import TestSupport

/// A server on an ephemeral loopback port for one test, stopped by `stop()`.
final class RunningServer: @unchecked Sendable {
  let port: Int
  private let server: FMBoostServer
  private let task: Task<Void, any Error>

  private init(port: Int, server: FMBoostServer, task: Task<Void, any Error>) {
    (self.port, self.server, self.task) = (port, server, task)
  }

  static func start(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningServer {
    var configuration = ServerConfiguration()
    configuration.port = 0
    configure(&configuration)
    let server = try FMBoostServer(configuration, log: { _ in })
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let task = Task { try await server.run { continuation.yield($0) } }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw URLError(.cannotConnectToHost) }
    return RunningServer(port: port, server: server, task: task)
  }

  func stop() async {
    await server.shutDown()
    _ = try? await task.value
  }

  /// A request, made on a thread of its own (the socket calls block).
  func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) async throws -> LoopbackHTTP.Reply {
    let port = self.port
    return try await offloaded { try LoopbackHTTP.request(method, path, port: port, headers: headers, body: body) }
  }

  func json(_ method: String, _ path: String, _ object: Any, headers: [String: String] = [:]) async throws -> LoopbackHTTP.Reply {
    try await request(method, path, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
                      body: try JSONSerialization.data(withJSONObject: object))
  }

  func health() async throws -> [String: Any] { try await request("GET", "/health").json() }
}

/// Runs blocking work on a GCD thread, off Swift's cooperative pool (which the server shares).
func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
  }
}

/// A crop of a real photo, as PNG bytes.
func photoPNG(width: Int, height: Int) throws -> Data {
  let full = try ImageFile.load(Shared.photo("chelsea.png"))
  let color = try full.color.narrow(dim: 1, start: 0, length: height).narrow(dim: 2, start: 0, length: width).contiguous()
  return Data(try ImageFile.encode(Picture(color: color), name: "crop.png", format: .png))
}
