import Checkpoint
import FMBoost
import Foundation
import NN
import StableDiffusion
import Testing
import TestSupport
import Torch

/// The CLIP text transformer against `golden-sd/clip_text_tiny.*` (transformers 5.24, float32 on
/// the file's float16-exact weights): every hidden state, the output and clip skip 2.
@Suite struct CLIPTextModelTests {
  @Test func tinyTextModelMatchesTransformers() throws {
    let model = try CLIPTextLoader.load(Shared.root + "/golden-sd/clip_text_tiny.ldm.safetensors")
    #expect(model.config.numAttentionHeads == 4 && model.config.numHiddenLayers == 2 && model.config.intermediateSize == 128)
    let io = try SafeTensorsFile(path: Shared.root + "/golden-sd/clip_text_tiny.io.safetensors")
    let ids = try io.tensor("input_ids")
    let states = try withNoGrad { try model.hiddenStates(ids) }
    for (i, state) in states.enumerated() {
      let reference = try io.tensor("hidden_states.\(i)")
      let scale = try reference.abs().max().item()
      #expect(try state.maxAbsDifference(reference) <= 1e-5 * max(1, scale), "hidden_states.\(i)")
    }
    for (skip, key) in [(1, "last_hidden_state"), (2, "clip_skip_2")] {
      let reference = try io.tensor(key)
      let ours = try withNoGrad { try model(ids, clipSkip: skip) }
      #expect(try ours.maxAbsDifference(reference) <= 1e-5 * max(1, try reference.abs().max().item()), "\(key)")
    }
    #expect(throws: TorchError.self) { try model(ids, clipSkip: 3) }
  }

  @Test func transformersFilesWithAndWithoutTheTextModelPrefixLoadAlike() throws {
    let ldm = Shared.root + "/golden-sd/clip_text_tiny.ldm.safetensors"
    let tensors = try SafeTensorsFile(path: ldm).tensors()
    let ids = try SafeTensorsFile(path: Shared.root + "/golden-sd/clip_text_tiny.io.safetensors").tensor("input_ids")
    let reference = try withNoGrad { try CLIPTextLoader.load(ldm)(ids) }
    let folder = try temporaryDirectory("clip-text")
    for prefix in ["text_model.", ""] {
      var renamed: [String: Tensor] = [:]
      for (key, t) in tensors where key != "cond_stage_model.transformer.text_model.embeddings.position_ids" {
        renamed[prefix + key.replacingOccurrences(of: "cond_stage_model.transformer.text_model.", with: "")] = t
      }
      let url = folder.appendingPathComponent("model\(prefix.isEmpty ? "5" : "4").safetensors")
      try SafeTensors.write(renamed, to: url)
      let ours = try withNoGrad { try CLIPTextLoader.load(url.path, heads: 4)(ids) }
      #expect(try ours.maxAbsDifference(reference) == 0, "prefix '\(prefix)'")
    }
  }

  @Test func theFullSizeTreeHasSD15sKeysAndShapes() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Shared.root + "/golden-sd/sd15_keys.json"))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let tensors = try #require(json["text_encoder"] as? [[Any]])
    let model = try CLIPTextModel(.vitL14, ParameterSource.fresh(device: .meta).root)
    let ours = Dictionary(uniqueKeysWithValues: model.stateDict().map { ("cond_stage_model.transformer.text_model." + $0.0, $0.1.shape) })
    var expected: [String: [Int]] = [:]
    for t in tensors {
      let name = try #require(t[0] as? String), shape = try #require(t[2] as? [Int])
      expected[name] = shape
    }
    #expect(expected.count == 196)
    #expect(ours == expected)
    #expect(model.parameterCount == 123_060_480)
  }

  /// A `text_encoder/` folder as transformers 5 saves it (`Tests/Fixtures/clip_text_folder`, made
  /// by `make_clip_folder_fixture.py` beside this file: config.json, unprefixed keys), its heads
  /// read from config.json as the folder loader reads them.
  @Test func aTextEncoderFolderSavedByTransformersLoads() throws {
    let folder = Shared.fixture("clip_text_folder")
    let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as? [String: Any])
    let model = try CLIPTextLoader.load(folder + "/model.safetensors", heads: config["num_attention_heads"] as? Int)
    #expect(model.config.numAttentionHeads == 4 && model.config.vocabSize == 1000 && model.config.numHiddenLayers == 2)
    let io = try SafeTensorsFile(path: Shared.fixture("clip_text_folder.io.safetensors"))
    let out = try withNoGrad { try model(io.tensor("input_ids")) }
    let reference = try io.tensor("last_hidden_state")
    let error = try out.maxAbsDifference(reference)
    print(String(format: "CLIP text folder (transformers 5): last_hidden_state max abs error %.2e (scale %.2f)", error, try reference.abs().max().item()))
    #expect(error <= 1e-5 * max(1, try reference.abs().max().item()))
  }
}
