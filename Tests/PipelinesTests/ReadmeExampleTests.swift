import Foundation
import Testing
import TestSupport

// The README's library example, compiled and run here: `readmeShowsThisExample` checks that the
// README holds exactly the lines between the markers.
import Imaging
import Pipelines

@Suite(.serialized) struct ReadmeExampleTests {
  static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("README.md")

  @Test func theExampleUpsamplesAPhoto() throws {
    let dir = try temporaryDirectory("readme-example")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (input, output) = (Shared.photo("chelsea.png"), dir.appendingPathComponent("chelsea-2x.png").path)
    var fractions: [Double] = []
    func show(_ fraction: Double) { fractions.append(fraction) }
    // README example begin
    let pipeline = try UpsamplingPipeline()  // the shipped default model; or .init(.init(model: "my.safetensors"))
    let photo = try ImageFile.load(input)
    let result = try pipeline.upsample(photo, stages: 1) { progress in
      show(progress.fraction)
      return true  // false cancels
    }
    try ImageFile.save(result.picture, to: output)
    // README example end
    let written = try ImageFile.load(output)
    #expect(written.width == 2 * photo.width && written.height == 2 * photo.height)
    #expect(fractions.last == 1 && fractions == fractions.sorted())
  }

  @Test func readmeShowsThisExample() throws {
    let source = try String(contentsOfFile: #filePath, encoding: .utf8).components(separatedBy: "\n")
    let begin = try #require(source.firstIndex { $0.hasSuffix("// README example begin") })
    let end = try #require(source.firstIndex { $0.hasSuffix("// README example end") })
    let example = source[(begin + 1)..<end].map { String($0.dropFirst(4)) }.joined(separator: "\n")
    let readme = try String(contentsOf: Self.readme, encoding: .utf8)
    #expect(readme.contains("```swift\nimport Imaging\nimport Pipelines\n\n" + example + "\n```"), "README.md's library example differs from \(#filePath)")
  }
}
