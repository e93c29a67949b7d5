import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Debian's Chromium, headless, driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: it reads commands on fd 3 and writes replies on fd 4, each JSON
/// message ending in a NUL byte).
final class HeadlessChromium {
  static let executable = "/usr/bin/chromium"
  private var pid: pid_t = 0
  private let toBrowser: Int32, fromBrowser: Int32
  private var nextID = 1
  private var pending = Data()

  init(profile: URL) throws {
    guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
      throw URLError(.fileDoesNotExist, userInfo: [NSLocalizedDescriptionKey: "\(Self.executable) is missing: install Debian's chromium (make deps)"])
    }
    var commands: [Int32] = [0, 0], replies: [Int32] = [0, 0]
    guard pipe(&commands) == 0, pipe(&replies) == 0 else { throw URLError(.cannotCreateFile) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, commands[0], 3)
    posix_spawn_file_actions_adddup2(&actions, replies[1], 4)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let arguments = [Self.executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-pipe",
                     "--window-size=1280,1000", "--user-data-dir=\(profile.path)", "about:blank"]
    var argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let status = posix_spawn(&pid, Self.executable, &actions, nil, &argv, environ)
    close(commands[0])
    close(replies[1])
    guard status == 0 else { throw URLError(.cannotOpenFile) }
    (toBrowser, fromBrowser) = (commands[1], replies[0])
  }

  /// Sends a command (to a page's session when given) and returns its result.
  @discardableResult
  func send(_ method: String, _ params: [String: Any] = [:], session: String? = nil, timeout: Double = 60) throws -> [String: Any] {
    let id = nextID
    nextID += 1
    var message: [String: Any] = ["id": id, "method": method, "params": params]
    if let session { message["sessionId"] = session }
    var bytes = try JSONSerialization.data(withJSONObject: message)
    bytes.append(0)
    _ = bytes.withUnsafeBytes { write(toBrowser, $0.baseAddress, $0.count) }
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let reply = try readMessage(until: deadline)
      guard reply["id"] as? Int == id else { continue }  // events
      if let error = reply["error"] { throw URLError(.badServerResponse, userInfo: [NSLocalizedDescriptionKey: "\(method): \(error)"]) }
      return reply["result"] as? [String: Any] ?? [:]
    }
  }

  /// A page's JavaScript expression, by value.
  func evaluate(_ expression: String, session: String) throws -> Any? {
    let result = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true], session: session)
    return (result["result"] as? [String: Any])?["value"]
  }

  private func readMessage(until deadline: Date) throws -> [String: Any] {
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while pending.firstIndex(of: 0) == nil {
      var descriptor = pollfd(fd: fromBrowser, events: Int16(POLLIN), revents: 0)
      let wait = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
      guard poll(&descriptor, 1, wait) > 0 else { throw URLError(.timedOut) }
      let n = read(fromBrowser, &chunk, chunk.count)
      guard n > 0 else { throw URLError(.networkConnectionLost) }
      pending.append(contentsOf: chunk[0..<n])
    }
    let end = pending.firstIndex(of: 0)!
    let message = pending[pending.startIndex..<end]
    pending = Data(pending[(end + 1)...])
    return (try JSONSerialization.jsonObject(with: message)) as? [String: Any] ?? [:]
  }

  deinit {
    _ = try? send("Browser.close", timeout: 5)
    close(toBrowser)
    close(fromBrowser)
    var status: Int32 = 0
    if waitpid(pid, &status, WNOHANG) == 0 {
      kill(pid, SIGKILL)
      waitpid(pid, &status, 0)
    }
  }
}
