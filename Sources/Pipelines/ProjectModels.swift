import FileSupport
import Foundation

/// The models that ship with the project (`models/default-2x.safetensors`, made by `make default-model`;
/// `models/default-4x.safetensors`, by `make default-model-4x`).
public enum DefaultModel {
  public static let fileName = "default-2x.safetensors"
  public static let environmentVariable = "FMBOOST_DEFAULT_MODEL"

  /// The shipped model for sides `scale` times larger: `default-<scale>x.safetensors` where it was
  /// made ($FMBOOST_DEFAULT_MODEL_<scale>X, or found where the ×2 model is), else the ×2 model,
  /// whose stages then reach the scale.
  public static func path(scale: Int = 2) throws -> String {
    if scale != 2, let found = made(scale: scale) { return found }
    return try locate(fileName, environmentVariable: environmentVariable)
  }

  /// The shipped model made for `scale` other than 2, nil where none was.
  public static func made(scale: Int) -> String? {
    try? locate("default-\(scale)x.safetensors", environmentVariable: "\(environmentVariable)_\(scale)X")
  }

  /// $variable, else `<prefix>/share/fmboost/` beside an installed executable, else models/ in a
  /// folder above the executable (the source tree it was built in).
  static func locate(_ fileName: String, environmentVariable: String) throws -> String {
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
