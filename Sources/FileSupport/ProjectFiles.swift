import Foundation

/// Files the project ships or fetches (the default model, the FID network), found from the
/// running executable: in its folder or one of the folders above it (the source tree it was
/// built in, `.build/release/fmboost` → the repository).
public enum ProjectFiles {
  /// The executable, symlinks resolved.
  public static var executable: URL { URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath() }

  /// The first existing `relative` path below the executable's folder or one of up to five above it.
  public static func aboveExecutable(_ relative: String) -> String? {
    var folder = executable.deletingLastPathComponent()
    for _ in 0..<6 {
      let candidate = folder.appendingPathComponent(relative)
      if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
      folder = folder.deletingLastPathComponent()
    }
    return nil
  }
}
