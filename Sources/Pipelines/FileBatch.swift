import Foundation

/// An input file and where its outputs go, relative to the output folder.
public struct InputFile: Sendable, CustomStringConvertible {
  public let path: String
  /// The path below the folder named by the caller (just the file name for a file given alone).
  public let relative: String
  public var description: String { path }

  public init(path: String, relative: String) {
    self.path = path
    self.relative = relative
  }
}

/// Files and folders in, one output per file, outputs mirroring the input tree.
public enum FileBatch {
  /// The files named, with folders expanded (recursively, sorted) to the files whose extension is
  /// in `extensions`; each keeps its path below the folder.
  public static func expand(_ paths: [String], extensions: Set<String>) -> [InputFile] {
    var result: [InputFile] = []
    for path in paths {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        let enumerator = FileManager.default.enumerator(atPath: path)
        var found: [String] = []
        while let item = enumerator?.nextObject() as? String {
          if extensions.contains((item as NSString).pathExtension.lowercased()) { found.append(item) }
        }
        result += found.sorted().map { InputFile(path: (path as NSString).appendingPathComponent($0), relative: $0) }
      } else {
        result.append(InputFile(path: path, relative: (path as NSString).lastPathComponent))
      }
    }
    return result
  }

  /// Creates a folder (and parents).
  public static func prepareDirectory(_ path: String) throws {
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      throw PipelineError.cannotCreateFolder(path, reason: (error as NSError).localizedDescription)
    }
  }

  /// The folder `path` is written in, created.
  public static func prepareParent(of path: String) throws {
    let parent = (path as NSString).deletingLastPathComponent
    try prepareDirectory(parent.isEmpty ? "." : parent)
  }

  /// `DIR/<relative path without extension><suffix>.<ext>` (sub-folders created), refusing to
  /// overwrite unless `overwrite`.
  public static func outputPath(for input: InputFile, in directory: String, suffix: String = "", extension ext: String, overwrite: Bool) throws -> String {
    let path = location(for: input, in: directory, suffix: suffix, extension: ext)
    if FileManager.default.fileExists(atPath: path) && !overwrite { throw PipelineError.outputExists(path) }
    try prepareParent(of: path)
    return path
  }

  /// Refuses inputs that would write the same output (two files of the same name given one by one).
  public static func refuseCollisions(_ inputs: [InputFile]) throws {
    var seen: [String: String] = [:]
    for input in inputs {
      let key = (input.relative as NSString).deletingPathExtension
      if let other = seen[key] { throw PipelineError.sameOutput(other, input.path, output: key) }
      seen[key] = input.path
    }
  }

  /// `input`'s output in `directory` when it is already there.
  public static func existingOutput(for input: InputFile, in directory: String, suffix: String = "", extension ext: String) -> String? {
    let path = location(for: input, in: directory, suffix: suffix, extension: ext)
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }

  /// `DIR/<relative path without extension><suffix>.<ext>`.
  static func location(for input: InputFile, in directory: String, suffix: String, extension ext: String) -> String {
    (directory as NSString).appendingPathComponent((input.relative as NSString).deletingPathExtension + suffix + "." + ext)
  }

  /// What the work on one input did: the file it wrote (or found already written, when `skipped`)
  /// and a line about it.
  public struct Done: Sendable {
    public let output: String?
    public let summary: String
    public let skipped: Bool

    public init(output: String?, summary: String, skipped: Bool = false) {
      (self.output, self.summary, self.skipped) = (output, summary, skipped)
    }
  }

  /// What `run` reports for each input: what it did, or why it failed, and how long it took.
  public struct Outcome {
    public let index: Int, count: Int
    public let input: InputFile
    public let result: Result<Done, any Error>
    public let seconds: Double
  }

  /// Runs `body` for each input, reporting each outcome (and recording it in `manifest`) without
  /// stopping at a failure; throws at the end when any input failed. Two inputs that would write
  /// the same output (two files of the same name given one by one) are refused before anything
  /// runs; so is a cancellation.
  public static func run(_ inputs: [InputFile], manifest: Manifest? = nil, seed: (InputFile) -> UInt64? = { _ in nil }, report: (Outcome) -> Void,
                         _ body: (Int, InputFile) throws -> Done) throws {
    guard !inputs.isEmpty else { throw PipelineError.noInputs }
    try refuseCollisions(inputs)
    var failures = 0
    for (i, input) in inputs.enumerated() {
      let start = DispatchTime.now().uptimeNanoseconds
      let result: Result<Done, any Error>
      do {
        result = .success(try body(i, input))
      } catch PipelineError.cancelled {
        throw PipelineError.cancelled
      } catch {
        failures += 1
        result = .failure(error)
      }
      let outcome = Outcome(index: i, count: inputs.count, input: input, result: result,
                            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
      try manifest?.record(outcome, seed: seed(input))
      report(outcome)
    }
    if failures > 0 { throw PipelineError.inputsFailed(failed: failures, of: inputs.count) }
  }
}
