import Foundation
import Imaging
import StableDiffusion

extension TextToImagePipeline {
  /// Generates one PNG per seed into `folder`, named `<seed>-<the prompt's first words>.png`, with
  /// A1111's `parameters` text chunk; existing files are refused before anything runs unless
  /// `overwrite`. `written(path, image)` after each.
  public func generateFiles(_ settings: TextToImageSettings, seeds: [UInt64], stages: Int = 1, folder: String, overwrite: Bool = false,
                            progress: PipelineProgressHandler? = nil, written: (String, GeneratedImage) -> Void) throws {
    try FileBatch.prepareDirectory(folder)
    let paths = Dictionary(uniqueKeysWithValues: seeds.map { ($0, (folder as NSString).appendingPathComponent(Self.fileName(seed: $0, prompt: settings.prompt))) })
    if !overwrite, let existing = paths.values.sorted().first(where: FileManager.default.fileExists(atPath:)) {
      throw PipelineError.outputExists(existing)
    }
    try generate(settings, seeds: seeds, stages: stages, progress: progress) { made in
      let path = paths[made.seed]!
      try ImageFile.write(made.image, to: path, range: .symmetric, text: [("parameters", made.parameters)])
      written(path, made)
    }
  }

  /// `<seed>-<the prompt's first six words>.png`.
  public static func fileName(seed: UInt64, prompt: String) -> String {
    let words = prompt.lowercased().split { !$0.isLetter && !$0.isNumber }.prefix(6).joined(separator: "-")
    return "\(seed)-\(words.isEmpty ? "image" : String(words.prefix(60))).png"
  }
}
