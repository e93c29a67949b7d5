import Foundation

/// Runs the built `fmboost` tool (next to the test bundle in .build/<configuration>/).
public enum CommandRunner {
  public struct Result {
    public let status: Int32
    public let output: String
    public let error: String
  }

  public static var executable: URL {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
    var directory = bundle.deletingLastPathComponent()
    if directory.lastPathComponent == "MacOS" {  // inside an .xctest bundle on Darwin
      directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    return directory.appendingPathComponent("fmboost")
  }

  public static func fmboost(_ arguments: [String]) throws -> Result {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                  error: String(decoding: errData, as: UTF8.self))
  }
}

extension Shared {
  /// Real photos installed by scripts/fetch-photos.sh (data/photos in the repository).
  public static func photo(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("data/photos/\(name)").path
  }
}
