import Foundation
import Imaging
import Testing
import TestSupport

/// A1111's txt2img on the tiny SD1.5-topology single file (random weights: sizes, determinism and
/// the settings recorded are the point).
@Suite(.serialized) struct ServerTextToImageTests {
  @Test func txt2imgAnswersInA1111sShapeAndASeedRepeats() async throws {
    let model = try TinyStableDiffusion.singleFile()
    let server = try await RunningServer.start { $0.stableDiffusion = model; $0.vocabulary = TinyStableDiffusion.vocabulary }
    let request: [String: Any] = ["prompt": "a red bicycle", "steps": 3, "width": 64, "height": 64, "seed": 7, "sampler_name": "Euler a", "batch_size": 2]
    let first = try await server.json("POST", "/sdapi/v1/txt2img", request)
    #expect(first.status == 200, "\(first.text)")
    let reply = try first.json()
    let images = try #require(reply["images"] as? [String])
    #expect(images.count == 2)
    let picture = try ImageFile.decodePicture(try #require(Data(base64Encoded: images[0])), name: "first")
    #expect(picture.width == 64 && picture.height == 64)
    let info = try #require(reply["info"] as? String)
    #expect(info.contains("Sampler: euler-a") && info.contains("Seed: 7") && info.contains("Seed: 8"), "\(info)")
    #expect((reply["parameters"] as? [String: Any])?["prompt"] as? String == "a red bicycle")
    let again = try await server.json("POST", "/sdapi/v1/txt2img", request).json()
    #expect((again["images"] as? [String])?.first == images[0])
    let bad = try await server.json("POST", "/sdapi/v1/txt2img", ["prompt": "x", "width": 100])
    #expect(bad.status == 400 && bad.text.contains("width must be a multiple of 8"))
    await server.stop()
  }
}
