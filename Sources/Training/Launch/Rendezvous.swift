import Foundation
import Torch

/// The torchrun environment of one rank: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK).
public struct Rendezvous: Sendable {
  public let rank: Int
  public let worldSize: Int
  public let master: String
  public let port: Int

  /// nil when RANK and WORLD_SIZE are unset (one process); an error when they are inconsistent.
  public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Rendezvous? {
    guard environment["RANK"] != nil || environment["WORLD_SIZE"] != nil else { return nil }
    func integer(_ name: String, default value: Int? = nil) throws -> Int {
      guard let text = environment[name] else {
        if let value { return value }
        throw LaunchError("\(name) is not set (data-parallel training needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)")
      }
      guard let v = Int(text) else { throw LaunchError("\(name)=\(text) is not an integer") }
      return v
    }
    let rank = try integer("RANK"), world = try integer("WORLD_SIZE"), port = try integer("MASTER_PORT", default: 29500)
    guard world >= 1, (0..<world).contains(rank) else { throw LaunchError("RANK=\(rank) is not in 0..<WORLD_SIZE=\(world)") }
    guard (1...65535).contains(port) else { throw LaunchError("MASTER_PORT=\(port) is not a TCP port") }
    return Rendezvous(rank: rank, worldSize: world, master: environment["MASTER_ADDR"] ?? "127.0.0.1", port: port)
  }

  public func connect(timeout: Double) throws -> ProcessGroup {
    do {
      return try ProcessGroup(master: master, port: port, rank: rank, worldSize: worldSize, timeout: timeout)
    } catch {
      throw LaunchError("rank \(rank): could not join the \(worldSize)-process group at \(master):\(port): \(error)")
    }
  }
}

/// Data-parallel training could not start or go on.
public struct LaunchError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
