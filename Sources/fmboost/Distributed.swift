import Foundation
import Torch
import Training

/// The torchrun environment of one rank: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK).
struct Rendezvous {
  let rank: Int
  let worldSize: Int
  let master: String
  let port: Int

  /// nil when RANK and WORLD_SIZE are unset (one process); an error when they are inconsistent.
  static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Rendezvous? {
    guard environment["RANK"] != nil || environment["WORLD_SIZE"] != nil else { return nil }
    func integer(_ name: String, default value: Int? = nil) throws -> Int {
      guard let text = environment[name] else {
        if let value { return value }
        throw CommandError("\(name) is not set (data-parallel training needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)")
      }
      guard let v = Int(text) else { throw CommandError("\(name)=\(text) is not an integer") }
      return v
    }
    let rank = try integer("RANK"), world = try integer("WORLD_SIZE"), port = try integer("MASTER_PORT", default: 29500)
    guard world >= 1, (0..<world).contains(rank) else { throw CommandError("RANK=\(rank) is not in 0..<WORLD_SIZE=\(world)") }
    guard (1...65535).contains(port) else { throw CommandError("MASTER_PORT=\(port) is not a TCP port") }
    return Rendezvous(rank: rank, worldSize: world, master: environment["MASTER_ADDR"] ?? "127.0.0.1", port: port)
  }

  func connect(timeout: Double) throws -> ProcessGroup {
    do {
      return try ProcessGroup(master: master, port: port, rank: rank, worldSize: worldSize, timeout: timeout)
    } catch {
      throw CommandError("rank \(rank): could not join the \(worldSize)-process group at \(master):\(port): \(error)")
    }
  }
}

/// `--nproc N`: runs this same command as N ranks on this machine and waits for them. When one
/// fails, the others are stopped (SIGTERM, then SIGKILL); signals to the launcher go to every rank.
struct LocalLauncher {
  static let runDirectoryVariable = "FMBOOST_RUN_DIRECTORY"
  let processes: Int
  let threads: Int?

  func run() throws {
    let port = try Self.freePort()
    let perRank = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / processes)
    var arguments = Array(CommandLine.arguments.dropFirst())
    arguments.append(contentsOf: ["--threads", String(perRank)])
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var environment = ProcessInfo.processInfo.environment
    environment["MASTER_ADDR"] = "127.0.0.1"
    environment["MASTER_PORT"] = String(port)
    environment["WORLD_SIZE"] = String(processes)
    if environment[Self.runDirectoryVariable] == nil, !arguments.contains("--resume-checkpoint") {
      environment[Self.runDirectoryVariable] = runDirectory(arguments)
    }
    print("starting \(processes) ranks on 127.0.0.1:\(port), \(perRank) thread\(perRank == 1 ? "" : "s") each")
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
    if let failed { throw CommandError("data-parallel training failed: rank \(failed.rank) exited with status \(failed.status)") }
  }

  /// logs/<name>_<timestamp>, decided once for all ranks.
  func runDirectory(_ arguments: [String]) -> String {
    func value(_ flag: String, _ fallback: String) -> String {
      guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count else { return fallback }
      return arguments[i + 1]
    }
    return RunFolder.new(logs: value("--logs", "logs"), name: value("--name", "debug"))
  }

  /// A TCP port nobody listens on now (bound to port 0, then released).
  static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CommandError("cannot open a socket to find a free port") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw CommandError("cannot bind a socket to find a free port") }
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
