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

  /// One PNG per prompt of `file` with `settings` (its prompt and seed replaced by each line's),
  /// named `<line>-<seed>-<words>.png`; with `shard`, only that shard's prompts, skipping images
  /// already written (writes are atomic), with the shard's manifest in `folder`. A prompt that fails
  /// is reported and the others still run; the call then throws `PipelineError.inputsFailed`.
  public func generateFiles(_ file: PromptFile, settings: TextToImageSettings, stages: Int = 1, folder: String, overwrite: Bool = false,
                            shard: Shard? = nil, progress: PipelineProgressHandler? = nil, report: (FileBatch.Outcome) -> Void) throws {
    try FileBatch.prepareDirectory(folder)
    let all = file.inputs
    let prompts = Dictionary(uniqueKeysWithValues: zip(all.map(\.path), file.prompts))
    let inputs = shard.map { $0.select(all) } ?? all
    let manifest = try shard.map { try Manifest(folder: folder, shard: $0, inputs: inputs) }
    try FileBatch.run(inputs, manifest: manifest, seed: { prompts[$0.path]?.seed }, report: report) { index, input in
      let prompt = prompts[input.path]!
      let path = (folder as NSString).appendingPathComponent("\(prompt.number)-" + Self.fileName(seed: prompt.seed, prompt: prompt.text))
      if FileManager.default.fileExists(atPath: path) {
        guard shard != nil || overwrite else { throw PipelineError.outputExists(path) }
        if shard != nil && !overwrite { return FileBatch.Done(output: path, summary: "\(path) (already written)", skipped: true) }
      }
      var s = settings
      s.prompt = prompt.text
      try generate(s, seeds: [prompt.seed], stages: stages, progress: progress) { made in
        try ImageFile.write(made.image, to: path, range: .symmetric, text: [("parameters", made.parameters)])
      }
      return FileBatch.Done(output: path, summary: "\(path) (seed \(prompt.seed))")
    }
  }

  /// `<seed>-<the prompt's first six words>.png`.
  public static func fileName(seed: UInt64, prompt: String) -> String {
    let words = prompt.lowercased().split { !$0.isLetter && !$0.isNumber }.prefix(6).joined(separator: "-")
    return "\(seed)-\(words.isEmpty ? "image" : String(words.prefix(60))).png"
  }
}
