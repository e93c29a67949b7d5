import Checkpoint
import Foundation
import FMBoost
import Torch

/// Small pieces the subcommands share.
enum CommandSupport {
  /// An input file and where its outputs go, relative to the output folder.
  struct InputFile: CustomStringConvertible {
    let path: String
    /// The path below the folder named on the command line (just the file name for a file argument).
    let relative: String
    var description: String { path }
  }

  /// Files named on the command line, with folders expanded (recursively, sorted) to the files
  /// whose extension is in `extensions`; each keeps its path below the folder, so outputs mirror
  /// the input tree.
  static func expand(_ paths: [String], extensions: Set<String>) -> [InputFile] {
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

  /// Creates the output folder (and parents).
  static func prepareDirectory(_ path: String) throws {
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      throw CommandError("\(path): cannot create the output folder (\((error as NSError).localizedDescription))")
    }
  }

  /// `DIR/<relative path without extension><suffix>.<ext>` (sub-folders created), refusing to
  /// overwrite unless `force`.
  static func outputPath(for input: InputFile, in directory: String, suffix: String = "", extension ext: String, force: Bool) throws -> String {
    let base = (input.relative as NSString).deletingPathExtension
    let path = (directory as NSString).appendingPathComponent(base + suffix + "." + ext)
    if FileManager.default.fileExists(atPath: path) && !force {
      throw CommandError("\(path) exists; pass --force to overwrite it")
    }
    try prepareDirectory((path as NSString).deletingLastPathComponent)
    return path
  }

  /// Runs `body` for each input, reporting failures without stopping; throws at the end when any
  /// input failed, so the exit code is non-zero. Two inputs that would write the same output (two
  /// files of the same name named one by one) are refused before anything runs.
  static func forEach(_ inputs: [InputFile], verb: String, _ body: (InputFile) throws -> String) throws {
    guard !inputs.isEmpty else { throw CommandError("no input files") }
    var seen: [String: String] = [:]
    for input in inputs {
      let key = (input.relative as NSString).deletingPathExtension
      if let other = seen[key] {
        throw CommandError("\(other) and \(input.path) would both be written as \(key).*; pass their folder instead, or run them separately")
      }
      seen[key] = input.path
    }
    var failures = 0
    for (i, input) in inputs.enumerated() {
      let start = DispatchTime.now().uptimeNanoseconds
      do {
        let written = try body(input)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("[\(i + 1)/\(inputs.count)] \(verb) \(input.path) -> \(written) (\(String(format: "%.2f", seconds)) s)")
      } catch {
        failures += 1
        FileHandle.standardError.write(Data("[\(i + 1)/\(inputs.count)] error: \(error)\n".utf8))
      }
    }
    if failures > 0 { throw CommandError("\(failures) of \(inputs.count) inputs failed") }
  }

  /// `--tile PX` (pixels of the full-resolution image, every command) as latent positions of a
  /// first stage with `factor` pixels per position.
  static func latentTile(pixels: Int?, factor: Int) throws -> Int? {
    guard let pixels else { return nil }
    guard pixels % factor == 0, pixels / factor >= Tiling.minimumTile else {
      throw CommandError("--tile \(pixels): must be a multiple of the first stage's \(factor) pixels per latent position and at least \(Tiling.minimumTile * factor) pixels")
    }
    return pixels / factor
  }

  /// Parses `--vae a[,b]`.
  static func vaePaths(_ value: String) -> [String] {
    value.split(separator: ",").map(String.init)
  }

  /// The first stage for a model: `--vae` when given, else the model's built-in one.
  static func autoencoder(vae: String?, pipeline: PipelineDefaults?, model: String) throws -> any LatentAutoencoder {
    if let vae { return try AutoencoderLoader.load(vaePaths(vae)) }
    if let builtIn = try pipeline?.builtInFirstStage() { return builtIn }
    let needed = pipeline.map { " (it was trained with the first stage \($0.firstStage))" } ?? ""
    throw CommandError("\(model) needs an autoencoder: pass --vae\(needed)")
  }
}

/// openai/CLIP's BPE vocabulary that `make clip-vocab` fetches (data/clip/ above the executable).
enum CLIPVocabulary {
  static func path(_ given: String?) -> String? { given ?? ProjectFiles.aboveExecutable("data/clip/bpe_simple_vocab_16e6.txt.gz") }
}

/// The model that ships with the project (`models/default-2x.safetensors`, made by `make default-model`).
enum DefaultModel {
  static let fileName = "default-2x.safetensors"

  /// $FMBOOST_DEFAULT_MODEL, else models/default-2x.safetensors in a folder above the executable
  /// (the source tree it was built in), else <prefix>/share/fmboost/.
  static func path() throws -> String {
    if let override = ProcessInfo.processInfo.environment["FMBOOST_DEFAULT_MODEL"] { return override }
    let installed = ProjectFiles.executable.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/fmboost/\(fileName)").path
    if FileManager.default.fileExists(atPath: installed) { return installed }
    if let found = ProjectFiles.aboveExecutable("models/\(fileName)") { return found }
    throw CommandError("no --model given and the default model (models/\(fileName)) was not found next to \(ProjectFiles.executable.path); pass --model or set FMBOOST_DEFAULT_MODEL")
  }
}

/// A command's discussion as paragraphs for ArgumentParser, which keeps every line break it is
/// given and wraps to the terminal itself: the lines of a paragraph are joined, blank lines and
/// lines starting a list item ("- ") or indented (examples) stay where they are.
func paragraphs(_ text: String) -> String {
  text.components(separatedBy: "\n\n").map { paragraph in
    paragraph.split(separator: "\n").enumerated().map { index, line in
      index == 0 ? String(line) : (line.hasPrefix("- ") || line.hasPrefix(" ") ? "\n" : " ") + line
    }.joined()
  }.joined(separator: "\n\n")
}
