import Foundation
import Testing
import TestSupport

/// Many clients at once: no request fails, no job is left waiting, and memory comes back.
@Suite(.serialized) struct ServerLoadTests {
  @Test func fiftyConcurrentMixedRequestsLeaveNothingBehind() async throws {
    let server = try await RunningServer.start { $0.queueCapacity = 64 }
    let png = try photoPNG(width: 48, height: 40)
    let json = try JSONSerialization.data(withJSONObject: ["image": png.base64EncodedString()])
    // Warm up: the model loaded and the allocator's caches filled once, then the baseline.
    #expect(try await server.request("POST", "/sdapi/v1/extra-single-image", headers: ["Content-Type": "application/json"], body: json).status == 200)
    releaseFreedMemory()
    let before = try residentMemory()
    let port = server.port
    let statuses = try await offloaded { () -> [Int] in
      let statuses = Statuses()
      DispatchQueue.concurrentPerform(iterations: 50) { i in
        let reply: LoopbackHTTP.Reply?
        switch i % 5 {
        case 0, 1: reply = try? LoopbackHTTP.request("POST", "/sdapi/v1/extra-single-image", port: port, headers: ["Content-Type": "application/json"], body: json)
        case 2: reply = try? LoopbackHTTP.request("POST", "/v1/jobs", port: port, headers: ["Content-Type": "application/json"], body: json)
        case 3: reply = try? LoopbackHTTP.request("GET", "/health", port: port)
        default: reply = try? LoopbackHTTP.request("GET", "/sdapi/v1/progress", port: port)
        }
        statuses.append(reply?.status ?? 0)
      }
      return statuses.all
    }
    #expect(statuses.count == 50 && statuses.allSatisfy { $0 == 200 || $0 == 202 }, "\(statuses)")
    var health: [String: Any] = [:]
    for _ in 0..<600 {
      health = try await server.health()
      if health["running"] as? Int == 0 && health["waiting"] as? Int == 0 { break }
      try await Task.sleep(for: .milliseconds(100))
    }
    let finished = health["finished"] as? [String: Int] ?? [:]
    #expect(health["running"] as? Int == 0 && health["waiting"] as? Int == 0 && finished["succeeded"] == 31, "\(health)")
    #expect(finished["failed"] == nil && finished["cancelled"] == nil, "\(health)")
    releaseFreedMemory()
    let after = try residentMemory()
    #expect(Double(after) <= 1.1 * Double(before), "RSS \(before) before, \(after) after")
    await server.stop()
  }
}

/// Statuses appended from many threads.
final class Statuses: @unchecked Sendable {
  private let lock = NSLock()
  private var values: [Int] = []
  func append(_ status: Int) { lock.withLock { values.append(status) } }
  var all: [Int] { lock.withLock { values } }
}
