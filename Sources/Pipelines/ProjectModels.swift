import FileSupport
import Foundation

/// The model that ships with the project (`models/default-2x.safetensors`, made by `make default-model`).
public enum DefaultModel {
  public static let fileName = "default-2x.safetensors"
  public static let environmentVariable = "FMBOOST_DEFAULT_MODEL"

  /// $FMBOOST_DEFAULT_MODEL, else `<prefix>/share/fmboost/` beside an installed executable, else
  /// models/ in a folder above the executable (the source tree it was built in).
  public static func path() throws -> String {
    if let override = ProcessInfo.processInfo.environment[environmentVariable] { return override }
    let installed = ProjectFiles.executable.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/fmboost/\(fileName)").path
    if FileManager.default.fileExists(atPath: installed) { return installed }
    if let found = ProjectFiles.aboveExecutable("models/\(fileName)") { return found }
    throw PipelineError.defaultModelMissing(fileName: fileName, searched: "\(environmentVariable), \(installed), models/ above \(ProjectFiles.executable.path)")
  }
}

/// openai/CLIP's BPE vocabulary that `make clip-vocab` fetches (data/clip/ above the executable).
public enum CLIPVocabulary {
  public static func path(_ given: String?) -> String? { given ?? ProjectFiles.aboveExecutable("data/clip/bpe_simple_vocab_16e6.txt.gz") }
}
