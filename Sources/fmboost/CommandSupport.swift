import Foundation
import Torch

/// Small pieces the subcommands share.
enum CommandSupport {
  /// Files named on the command line, with folders expanded (recursively, sorted) to the files
  /// whose extension is in `extensions`.
  static func expand(_ paths: [String], extensions: Set<String>) -> [String] {
    var result: [String] = []
    for path in paths {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        let enumerator = FileManager.default.enumerator(atPath: path)
        var found: [String] = []
        while let item = enumerator?.nextObject() as? String {
          if extensions.contains((item as NSString).pathExtension.lowercased()) { found.append((path as NSString).appendingPathComponent(item)) }
        }
        result += found.sorted()
      } else {
        result.append(path)
      }
    }
    return result
  }

  /// Creates the output folder (and parents).
  static func prepareDirectory(_ path: String) throws {
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      throw CommandError("\(path): cannot create the output folder (\((error as NSError).localizedDescription))")
    }
  }

  /// `DIR/<name without extension>.<ext>`, refusing to overwrite unless `force`.
  static func outputPath(for input: String, in directory: String, extension ext: String, force: Bool) throws -> String {
    let base = ((input as NSString).lastPathComponent as NSString).deletingPathExtension
    let path = (directory as NSString).appendingPathComponent(base + "." + ext)
    if FileManager.default.fileExists(atPath: path) && !force {
      throw CommandError("\(path) exists; pass --force to overwrite it")
    }
    return path
  }

  /// Runs `body` for each input, reporting failures without stopping; throws at the end when any
  /// input failed, so the exit code is non-zero.
  static func forEach(_ inputs: [String], verb: String, _ body: (String) throws -> String) throws {
    guard !inputs.isEmpty else { throw CommandError("no input files") }
    var failures = 0
    for (i, input) in inputs.enumerated() {
      let start = DispatchTime.now().uptimeNanoseconds
      do {
        let written = try body(input)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("[\(i + 1)/\(inputs.count)] \(verb) \(input) -> \(written) (\(String(format: "%.2f", seconds)) s)")
      } catch {
        failures += 1
        FileHandle.standardError.write(Data("[\(i + 1)/\(inputs.count)] error: \(error)\n".utf8))
      }
    }
    if failures > 0 { throw CommandError("\(failures) of \(inputs.count) inputs failed") }
  }

  /// Parses `--vae a[,b]`.
  static func vaePaths(_ value: String) -> [String] {
    value.split(separator: ",").map(String.init)
  }
}
