import Foundation
import Imaging

extension UpsamplingPipeline {
  /// Where and how `upsampleFiles` writes.
  public struct FileOutput: Sendable {
    public var folder: String
    public var format: ImageFormat = .png
    /// JPEG and WebP quality, 1–100.
    public var quality = 95
    /// Also write `<name>_compare.png`: bicubic (left) next to the model's result (right).
    public var compare = false
    public var overwrite = false
    /// Only this shard's part of the inputs; its outputs already written are skipped (writes are
    /// atomic: a file there is complete), and its manifest is kept in the folder (`Manifest`).
    public var shard: Shard?

    public init(folder: String) { self.folder = folder }
  }

  /// Upsamples image files and folders of them into `output.folder`, mirroring the input tree,
  /// named after the inputs (with `output.shard`, only that shard's part, resumably). An input that
  /// fails is reported and the others still run; the call then throws `PipelineError.inputsFailed`.
  /// Every image draws its noise from `seed`.
  public func upsampleFiles(_ inputs: [String], stages: Int = 1, seed: UInt64 = 2024, output: FileOutput,
                            progress: PipelineProgressHandler? = nil, report: (FileBatch.Outcome) -> Void) throws {
    try FileBatch.prepareDirectory(output.folder)
    let all = FileBatch.expand(inputs, extensions: ImageFile.extensions)
    try FileBatch.refuseCollisions(all)  // across shards too
    let files = output.shard.map { $0.select(all) } ?? all
    let manifest = try output.shard.map { try Manifest(folder: output.folder, shard: $0, inputs: files) }
    try FileBatch.run(files, manifest: manifest, seed: { _ in seed }, report: report) { index, input in
      let ext = output.format.fileExtension
      if output.shard != nil, !output.overwrite, let done = FileBatch.existingOutput(for: input, in: output.folder, extension: ext),
        !output.compare || FileBatch.existingOutput(for: input, in: output.folder, suffix: "_compare", extension: "png") != nil
      {
        return FileBatch.Done(output: done, summary: "\(done) (already written)", skipped: true)
      }
      // A shard rewrites what a killed run of it left half done (an image without its comparison).
      let overwrite = output.overwrite || output.shard != nil
      let destination = try FileBatch.outputPath(for: input, in: output.folder, extension: ext, overwrite: overwrite)
      let comparison = output.compare
        ? try FileBatch.outputPath(for: input, in: output.folder, suffix: "_compare", extension: "png", overwrite: overwrite) : nil
      let picture = try ImageFile.load(input.path)
      guard picture.width >= 2, picture.height >= 2 else {
        throw PipelineError.imageTooSmall(file: input.path, width: picture.width, height: picture.height)
      }
      let result = try upsample(picture, stages: stages, seed: seed, progress: progress, item: (index, files.count))
      try ImageFile.save(result.picture, to: destination, format: output.format, quality: output.quality)
      if let comparison {
        let sideBySide = try makeUpsampler().sideBySide(input: picture.color.unsqueeze(dim: 0), result: result.picture.color.unsqueeze(dim: 0), range: .unit)
        try ImageFile.write(sideBySide, to: comparison)
      }
      let tiled = result.haloTiles > 0 ? ", \(result.haloTiles) halo tiles" : ""
      return FileBatch.Done(output: destination, summary: "\(destination) (\(picture.width)×\(picture.height) → \(result.picture.width)×\(result.picture.height), \(result.evaluations) network evaluations\(tiled))")
    }
  }
}
