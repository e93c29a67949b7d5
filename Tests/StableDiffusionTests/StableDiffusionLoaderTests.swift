import Checkpoint
import FileSupport
import FMBoost
import Foundation
import NN
import StableDiffusion
import Testing
import TestSupport
import Torch

/// Prompt → latent end to end on the tiny SD1.5-topology models, loaded the way users hold them:
/// an SD single file (LDM prefixes, fp16, `position_ids`, `model_ema.*`) and a diffusers folder
/// with an LCM-distilled UNet; against diffusers' trajectories of `golden-sd/sched_ddim` (seed 301)
/// and `sched_lcm` (seed 305) — the seed's noise included — and the refusals of other families.
@Suite struct StableDiffusionLoaderTests {
  static let sd = TinyStableDiffusion.goldenSD
  static let vocabulary = TinyStableDiffusion.vocabulary

  static func tensors(_ path: String, prefix: String = "") throws -> [(String, Tensor)] { try TinyStableDiffusion.tensors(path, prefix: prefix) }

  static func singleFile(dropping: (String) -> Bool = { _ in false }) throws -> String { try TinyStableDiffusion.singleFile(dropping: dropping) }

  static func fixtureConfig(_ name: String) throws -> [String: Any] {
    let text = try SafeTensorsFile(path: sd + name).metadata["config"]!
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  static func expectClose(_ latent: Tensor, _ reference: Tensor, _ label: String) throws {
    let error = try latent.maxAbsDifference(reference), scale = try reference.abs().max().item()
    print(String(format: "%@: final latent max abs error %.2e (scale %.2f)", label, error, scale))
    #expect(error <= 1e-4 * max(1, scale), "\(label): \(error) at scale \(scale)")
  }

  @Test func aSingleFileGeneratesDiffusersDDIMTrajectoryFromTheSeed() throws {
    // The tiny text encoder has 4 heads of 8 dimensions (a single file does not say; ViT-L/14 has 64).
    let model = try StableDiffusionLoader.load(Self.singleFile(), vocabulary: Self.vocabulary, textHeads: 4)
    #expect(!model.isLCMDistilled && model.defaults.steps == 25 && model.defaults.guidance == 7.5)
    #expect(model.unet.config.channelMult == [1, 2, 3, 3] && model.unet.config.contextDim == 32 && model.vae.downsamplingFactor == 2)
    let config = try Self.fixtureConfig("sched_ddim.safetensors")
    var settings = TextToImageSettings(prompt: config["prompt"] as! String, sampler: .ddim, steps: 10, guidance: 7.5, seed: 301)
    (settings.width, settings.height) = (32, 32)
    var steps = 0
    let latent = try model.sampleLatent(settings, progress: { i, n in steps = i; #expect(n == 10) })
    #expect(steps == 10)
    try Self.expectClose(latent * model.latentScale, SafeTensorsFile(path: Self.sd + "sched_ddim.safetensors").tensor("x_0"), "single file, DDIM 10, CFG 7.5, seed 301")
    let image = try withNoGrad { try model.vae.decode(latent) }
    #expect(image.shape == [1, 3, 32, 32])

    // The same weights as a .ckpt (float32, under `state_dict`) give the same latent.
    let checkpoint = try StableDiffusionLoader.load(TinyStableDiffusion.singleCheckpoint(), vocabulary: Self.vocabulary, textHeads: 4)
    #expect(try checkpoint.sampleLatent(settings, progress: { _, _ in }).maxAbsDifference(latent) == 0)
  }

  /// A diffusers folder: the LCM-distilled UNet (diffusers layout), a transformers-4 text encoder
  /// (`text_model.*`), a tokenizer folder, the LCM scheduler named in its config.
  static func lcmFolder(skipping: String? = nil, prediction: String = "epsilon") throws -> String {
    let root = try temporaryDirectory("sd-folder")
    func write(_ relative: String, _ json: [String: Any]) throws {
      guard relative != skipping else { return }
      let url = root.appendingPathComponent(relative)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try JSONSerialization.data(withJSONObject: json).write(to: url)
    }
    func weights(_ relative: String, _ tensors: [(String, Tensor)]) throws {
      guard relative != skipping else { return }
      let url = root.appendingPathComponent(relative)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try SafeTensors.write(tensors, to: url)
    }
    try write("model_index.json", ["_class_name": "LatentConsistencyModelPipeline"])
    try write("scheduler/scheduler_config.json", ["_class_name": "LCMScheduler", "prediction_type": prediction])
    try write("unet/config.json", try #require(try fixtureConfig("sd_unet_tiny_lcm.diffusers.safetensors")["diffusers"] as? [String: Any]))
    try weights("unet/diffusion_pytorch_model.safetensors", tensors(sd + "sd_unet_tiny_lcm.diffusers.safetensors"))
    try write("text_encoder/config.json", ["num_attention_heads": 4, "hidden_size": 32])
    try weights("text_encoder/model.safetensors", try tensors(sd + "clip_text_tiny.ldm.safetensors").compactMap { key, t in
      key.hasSuffix("position_ids") ? nil : (String(key.dropFirst("cond_stage_model.transformer.".count)), t)
    })
    try write("vae/config.json", ["scaling_factor": 0.18215])
    try weights("vae/diffusion_pytorch_model.safetensors", tensors(Shared.golden("vae_a.weights.safetensors")))
    // The tokenizer folder: vocab.json (the fixture prompt's tokens) and merges.txt.
    let bpe = try CLIPTokenizer(bpeFile: vocabulary)
    let prompt = try fixtureConfig("sched_lcm.safetensors")["prompt"] as! String
    var vocab = Dictionary(zip(bpe.bpeTokens(prompt), bpe.encode(prompt)), uniquingKeysWith: { a, _ in a })
    vocab["<|startoftext|>"] = CLIPTokenizer.startToken
    vocab["<|endoftext|>"] = CLIPTokenizer.endToken
    let gz = try Gzip.decompress(Data(contentsOf: URL(fileURLWithPath: vocabulary)), file: vocabulary)
    let merges = String(decoding: gz, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)[1...48894]
    try FileManager.default.createDirectory(at: root.appendingPathComponent("tokenizer"), withIntermediateDirectories: true)
    try JSONSerialization.data(withJSONObject: vocab).write(to: root.appendingPathComponent("tokenizer/vocab.json"))
    try ("#version: 0.2\n" + merges.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("tokenizer/merges.txt"), atomically: true, encoding: .utf8)
    return root.path
  }

  @Test func anLCMFolderGeneratesDiffusersLCMTrajectory() throws {
    let model = try StableDiffusionLoader.load(Self.lcmFolder(), vocabulary: nil)
    #expect(model.isLCMDistilled && model.defaults.sampler == .lcm && model.defaults.steps == 4 && model.defaults.guidance == 8.5)
    let fixture = try SafeTensorsFile(path: Self.sd + "sched_lcm.safetensors")
    var settings = TextToImageSettings(prompt: try Self.fixtureConfig("sched_lcm.safetensors")["prompt"] as! String, sampler: .lcm, steps: 4, guidance: 8.5, seed: 305)
    (settings.width, settings.height) = (32, 32)
    let latent = try model.sampleLatent(settings, noise: { try fixture.tensor("step\($0).noise") })
    try Self.expectClose(latent * model.latentScale, fixture.tensor("x_0"), "diffusers folder, LCM 4 steps, w-embedding 7.5, seed 305")
  }

  @Test func aFolderWithAMissingPartNamesIt() throws {
    for part in ["unet/config.json", "model_index.json", "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors"] {
      #expect(throws: CheckpointError.self, "\(part)") { try StableDiffusionLoader.load(Self.lcmFolder(skipping: part), vocabulary: nil) }
      do { _ = try StableDiffusionLoader.load(Self.lcmFolder(skipping: part), vocabulary: nil) } catch {
        #expect("\(error)".contains(part.split(separator: "/").first!), "\(part): \(error)")
      }
    }
  }

  /// A folder whose scheduler predicts v (SD2.x-768 and its fine-tunes) is refused, naming its config.
  @Test func aVPredictionFolderIsRefused() throws {
    #expect { try StableDiffusionLoader.load(Self.lcmFolder(prediction: "v_prediction"), vocabulary: nil) }
      throws: { "\($0)".contains("scheduler_config.json") && "\($0)".contains("prediction_type is v_prediction") }
  }

  @Test func aTruncatedOrIncompleteSingleFileIsRefused() throws {
    let path = try Self.singleFile()
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
    #expect { try StableDiffusionLoader.load(path, vocabulary: Self.vocabulary) } throws: { "\($0)".contains(path) }
    let noVAE = try Self.singleFile(dropping: { $0.hasPrefix("first_stage_model.") })
    #expect { try StableDiffusionLoader.load(noVAE, vocabulary: Self.vocabulary) } throws: { "\($0)".contains("lacks the autoencoder (first_stage_model.*)") }
  }

  @Test func otherFamiliesAreRecognisedAndRefused() throws {
    let base = try TensorFile(path: Self.singleFile()).shapes()
    func refusal(_ edit: (inout [String: [Int]]) -> Void) -> String {
      var shapes = base
      edit(&shapes)
      do { try StableDiffusionFamily.checkSingleFile(shapes, file: "x.safetensors") } catch { return "\(error)" }
      return "accepted"
    }
    #expect(refusal { _ in } == "accepted")
    #expect(refusal { $0["conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight"] = [49408, 768] }.contains("SDXL"))
    #expect(refusal { $0["cond_stage_model.model.token_embedding.weight"] = [49408, 1024] }.contains("2.x"))
    #expect(refusal { $0["v_pred"] = [] }.contains("v-prediction"))
    #expect(refusal { $0["model.diffusion_model.input_blocks.0.0.weight"] = [32, 9, 3, 3] }.contains("inpainting"))
    #expect(refusal { $0["model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"] = [32, 1024] }.contains("2.x"))
    #expect(throws: CheckpointError.self) { try StableDiffusionFamily.checkFolder(index: ["_class_name": "StableDiffusionXLPipeline"], folder: "f") }
    #expect(throws: CheckpointError.self) { try StableDiffusionFamily.checkDiffusersUNet(["in_channels": 4, "cross_attention_dim": 2048, "addition_embed_type": "text_time"], file: "f") }
  }
}
