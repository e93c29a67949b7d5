import Checkpoint
import FMBoost
import Foundation
import Imaging
import Testing
import TestSupport
import Torch

/// A ×4 model in the model folder is offered with its scale, and a ×4 request runs it once: the
/// pixels `fmboost upsample --scale 4` gives.
@Suite(.serialized) struct ScaleFourUpscalerTests {
  /// What `fmboost export` writes for a ×4 run (pixel-unshuffle ×4, one Euler step), with fresh weights.
  static func writeScaleFourModel(to path: String) throws {
    var config = EfficientUNetConfig()
    (config.inChannels, config.outChannels, config.modelChannels, config.channelMult, config.numResBlocks) = (96, 48, 16, [1, 2], 1)
    (config.attentionResolutions, config.useGroupNorm, config.middleAttention, config.useLinearAttn) = ([], false, false, false)
    let net = try EfficientUNet(config, generator: Generator(seed: 1))
    let recipe = UpsamplingRecipe(firstStage: .pixelUnshuffle(factor: 4), scale: 4, latentScale: 1, noisingStep: 0, steps: 1)
    try SafeTensors.write(net.stateDict(), metadata: ["config": String(decoding: try JSONEncoder().encode(config), as: UTF8.self),
                                                      UpsamplingRecipe.metadataKey: try recipe.json()], to: URL(fileURLWithPath: path))
  }

  @Test func aScaleFourModelIsOfferedAndRunOnce() async throws {
    let dir = try temporaryDirectory("server-x4")
    defer { try? FileManager.default.removeItem(at: dir) }
    let models = dir.appendingPathComponent("models")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    let model = models.appendingPathComponent("tiny4x.safetensors").path
    try Self.writeScaleFourModel(to: model)
    let input = dir.appendingPathComponent("crop.png")
    let png = try photoPNG(width: 36, height: 28)
    try png.write(to: input)
    let cli = try CommandRunner.fmboost(["upsample", input.path, "-o", dir.appendingPathComponent("out").path, "--model", model, "--scale", "4"])
    #expect(cli.status == 0, "\(cli.error)")

    let server = try await RunningServer.start { $0.modelFolder = models.path }
    let upscalers = try JSONSerialization.jsonObject(with: try await server.request("GET", "/sdapi/v1/upscalers").body) as? [[String: Any]]
    #expect(upscalers?.first { $0["name"] as? String == "tiny4x" }?["scale"] as? Double == 4, "\(String(describing: upscalers))")
    let reply = try await server.json("POST", "/sdapi/v1/extra-single-image",
                                      ["image": png.base64EncodedString(), "upscaling_resize": 4, "upscaler_1": "tiny4x"])
    await server.stop()
    #expect(reply.status == 200, "\(reply.text)")
    let image = try Data(base64Encoded: #require(try reply.json()["image"] as? String)).map { try ImageFile.decodePicture($0, name: "reply") }
    #expect(image?.width == 144 && image?.height == 112)
    #expect(try #require(image).color.equal(ImageFile.load(dir.appendingPathComponent("out/crop.png").path).color))
  }
}
