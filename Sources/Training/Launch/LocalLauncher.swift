import Foundation
import Torch

/// Runs this executable again as N ranks on this machine, with the torchrun environment set, and
/// waits for them. When one fails, the others are stopped (SIGTERM, then SIGKILL); signals to the
/// launcher go to every rank.
public struct LocalLauncher {
  /// The run folder every rank writes to, decided once by the launcher.
  public static let runDirectoryVariable = "FMBOOST_RUN_DIRECTORY"
  public let processes: Int
  /// The ranks' arguments (this process's, with its thread count per rank).
  public let arguments: [String]
  /// The shared run folder (nil: a resumed run's own).
  public let runDirectory: String?

  public init(processes: Int, arguments: [String], runDirectory: String?) {
    (self.processes, self.arguments, self.runDirectory) = (processes, arguments, runDirectory)
  }

  /// Threads per rank when not given: the cores shared out.
  public static func threadsPerRank(_ processes: Int) -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount / processes) }

  public func run(log: (String) -> Void) throws {
    let port = try Self.freePort()
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var environment = ProcessInfo.processInfo.environment
    environment["MASTER_ADDR"] = "127.0.0.1"
    environment["MASTER_PORT"] = String(port)
    environment["WORLD_SIZE"] = String(processes)
    if environment[Self.runDirectoryVariable] == nil, let runDirectory { environment[Self.runDirectoryVariable] = runDirectory }
    log("starting \(processes) ranks on 127.0.0.1:\(port)")
    var children: [Process] = []
    for rank in 0..<processes {
      let child = Process()
      child.executableURL = executable
      child.arguments = arguments
      var env = environment
      env["RANK"] = String(rank)
      env["LOCAL_RANK"] = String(rank)
      child.environment = env
      try child.run()
      children.append(child)
    }
    let forward = ForwardedSignals(to: children)
    // Wait for the first rank to end; a failure takes the others down.
    var failed: (rank: Int, status: Int32)?
    while children.contains(where: \.isRunning) {
      if failed == nil, let (rank, child) = children.enumerated().first(where: { !$0.1.isRunning && $0.1.terminationStatus != 0 }) {
        failed = (rank, child.terminationStatus)
        FileHandle.standardError.write(Data("rank \(rank) exited with status \(child.terminationStatus); stopping the others\n".utf8))
        for other in children where other.isRunning { other.terminate() }
        let all = children
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) { for other in all where other.isRunning { kill(other.processIdentifier, SIGKILL) } }
      }
      Thread.sleep(forTimeInterval: 0.1)
    }
    withExtendedLifetime(forward) {}
    if failed == nil, let (rank, child) = children.enumerated().first(where: { $0.1.terminationStatus != 0 }) { failed = (rank, child.terminationStatus) }
    if let failed { throw LaunchError("data-parallel training failed: rank \(failed.rank) exited with status \(failed.status)") }
  }

  /// A TCP port nobody listens on now (bound to port 0, then released).
  static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw LaunchError("cannot open a socket to find a free port") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw LaunchError("cannot bind a socket to find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}

/// SIGINT/SIGTERM/SIGUSR1 to the launcher are passed to every rank (which stop after the same step).
final class ForwardedSignals: @unchecked Sendable {
  private var sources: [DispatchSourceSignal] = []

  init(to children: [Process]) {
    for sig in [SIGINT, SIGTERM, SIGUSR1] {
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
      source.setEventHandler { for child in children where child.isRunning { kill(child.processIdentifier, sig) } }
      source.resume()
      sources.append(source)
    }
  }
}
