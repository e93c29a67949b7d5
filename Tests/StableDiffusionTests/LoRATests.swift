import Checkpoint
import FMBoost
import Foundation
import NN
import StableDiffusion
import Testing
import TestSupport
import Torch

/// LoRA merging against `golden-sd/lora_tiny` (diffusers `load_lora_into_unet` + `fuse_lora` at
/// scale 0.8 on the tiny UNet): the kohya file as given, the same weights without `.alpha` (α =
/// rank) and in the diffusers/peft layout, and LoRAs that do not fit.
@Suite struct LoRATests {
  static let root = Shared.root + "/golden-sd/"
  static let kohya = root + "lora_tiny.kohya.safetensors"

  static func mergedEps(_ lora: LoRA) throws -> Tensor {
    let file = try TensorFile(path: root + "sd_unet_tiny.ldm.safetensors")
    var entries = Dictionary(try StateDictSelection.strip(file.lazyStateDict(), prefix: "model.diffusion_model.", file: file.path), uniquingKeysWith: { a, _ in a })
    let shapes = Dictionary(file.descriptors().map { (String($0.name.dropFirst("model.diffusion_model.".count)), $0.shape) }, uniquingKeysWith: { a, _ in a })
    try lora.mergeUNet(into: &entries, shapes: shapes, layersPerBlock: 2)
    var config = SDUNetConfig()
    config.modelChannels = 32
    config.channelMult = [1, 2, 3, 3]
    config.contextDim = 32
    let unet = try WeightFile.build(entries, file: file.path) { try SDUNet(config, $0) }
    let io = try SafeTensorsFile(path: root + "lora_tiny.io.safetensors")
    return try withNoGrad { try unet(io.tensor("x"), t: io.tensor("t"), context: io.tensor("context")) }
  }

  static func expectMerged(_ eps: Tensor, _ label: String) throws {
    let io = try SafeTensorsFile(path: root + "lora_tiny.io.safetensors")
    let reference = try io.tensor("eps_merged"), base = try io.tensor("eps_base")
    let error = try eps.maxAbsDifference(reference), scale = try reference.abs().max().item()
    print(String(format: "LoRA %@: merged eps max abs error %.2e (scale %.2f; the LoRA moves eps by %.3f)", label, error, scale, try reference.maxAbsDifference(base)))
    #expect(error <= 1e-4 * max(1, scale), "\(label): \(error)")
  }

  /// The fixture's tensors, renamed and filtered.
  static func rewritten(_ transform: (String) -> String?) throws -> String {
    let url = try temporaryDirectory("lora").appendingPathComponent("lora.safetensors")
    try SafeTensors.write(try SafeTensorsFile(path: kohya).keys.compactMap { key in try transform(key).map { ($0, try SafeTensorsFile(path: kohya).tensor(key)) } }, to: url)
    return url.path
  }

  @Test func aKohyaLoRAMergesAsDiffusersFusesIt() throws {
    try Self.expectMerged(Self.mergedEps(LoRA(argument: Self.kohya + ":0.8")), "kohya, alpha 2, rank 4, scale 0.8")
  }

  /// Without `.alpha`, α = rank: the fixture's α/rank = ½ at scale 0.8 is scale 0.4 without it.
  @Test func aKohyaModuleWithoutAlphaMeansAlphaEqualsRank() throws {
    let file = try Self.rewritten { $0.hasSuffix(".alpha") ? nil : $0 }
    try Self.expectMerged(Self.mergedEps(LoRA(file: file, scale: 0.4)), "kohya without alpha, scale 0.4")
  }

  /// The diffusers/peft layout: `unet.<diffusers module>.lora_A/B.weight`, no alpha.
  @Test func thePeftLayoutNamesTheSameModules() throws {
    let config = try #require(try JSONSerialization.jsonObject(with: Data(SafeTensorsFile(path: Self.kohya).metadata["config"]!.utf8)) as? [String: Any])
    let targets = try #require(config["targets"] as? [String])
    let byKohya = Dictionary(uniqueKeysWithValues: targets.map { ("lora_unet_" + $0.replacingOccurrences(of: ".", with: "_"), $0) })
    let file = try Self.rewritten { key in
      guard !key.hasSuffix(".alpha"), let dot = key.firstIndex(of: "."), let module = byKohya[String(key[..<dot])] else { return nil }
      return "unet." + module + (key.hasSuffix("lora_down.weight") ? ".lora_A.weight" : ".lora_B.weight")
    }
    try Self.expectMerged(Self.mergedEps(LoRA(file: file, scale: 0.4)), "peft layout, scale 0.4")
  }

  /// kohya names built from LDM module paths (`lora_unet_input_blocks_1_1_…`), as some tools write them.
  @Test func kohyaNamesInTheLDMLayoutNameTheSameModules() throws {
    let config = try #require(try JSONSerialization.jsonObject(with: Data(SafeTensorsFile(path: Self.kohya).metadata["config"]!.utf8)) as? [String: Any])
    let targets = try #require(config["targets"] as? [String])
    let ldm = try Dictionary(uniqueKeysWithValues: targets.map { target -> (String, String) in
      let key = try DiffusersUNetKeys.ldmKey(target + ".weight", layersPerBlock: 2, upBlocksWithAttention: [1, 2, 3])
      return ("lora_unet_" + target.replacingOccurrences(of: ".", with: "_"), "lora_unet_" + key.dropLast(".weight".count).replacingOccurrences(of: ".", with: "_"))
    })
    #expect(ldm.values.contains("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q"))
    let file = try Self.rewritten { key in
      guard let dot = key.firstIndex(of: "."), let renamed = ldm[String(key[..<dot])] else { return nil }
      return renamed + key[dot...]
    }
    try Self.expectMerged(Self.mergedEps(LoRA(file: file, scale: 0.8)), "kohya with LDM module names, scale 0.8")
  }

  /// A peft LoRA on 160 modules as diffusers saves it (`Tests/Fixtures/lora_peft.safetensors`, made
  /// by `make_peft_lora_fixture.py` beside this file), against diffusers' `load_lora_adapter` +
  /// `fuse_lora(lora_scale=0.7)`.
  @Test func aPeftLoRASavedByDiffusersMergesAsDiffusersLoadsIt() throws {
    let lora = try LoRA(argument: Shared.fixture("lora_peft.safetensors") + ":0.7")
    let io = try SafeTensorsFile(path: Shared.fixture("lora_peft.io.safetensors"))
    let eps = try Self.mergedEps(lora)
    let reference = try io.tensor("eps_merged")
    let error = try eps.maxAbsDifference(reference), scale = try reference.abs().max().item()
    print(String(format: "LoRA peft (diffusers-saved, 160 modules, scale 0.7): merged eps max abs error %.2e (scale %.2f)", error, scale))
    #expect(error <= 1e-4 * max(1, scale), "\(error)")
  }

  @Test func aLoRAForAnotherModelIsRefusedByName() throws {
    let absent = try Self.rewritten { $0.replacingOccurrences(of: "down_blocks_0_attentions_0", with: "down_blocks_0_attentions_7") }
    #expect { try Self.mergedEps(LoRA(file: absent, scale: 1)) } throws: { "\($0)".contains("down_blocks.0.attentions.7") && "\($0)".contains("another model") }
    let wide = try Self.rewritten { $0.replacingOccurrences(of: "mid_block_attentions_0_transformer_blocks_0_attn1_to_out_0", with: "down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k") }
    #expect { try Self.mergedEps(LoRA(file: wide, scale: 1)) } throws: { "\($0)".contains("does not make the weight's shape") }
    let foreign = try Self.rewritten { $0.replacingOccurrences(of: "lora_unet_", with: "lora_te1_") }
    #expect { try LoRA(file: foreign, scale: 1) } throws: { "\($0)".contains("not a LoRA key") }
  }

  /// kohya's `lora_te_` modules (CLIP names, `_` for `.`) merge into the single file's text encoder
  /// (`cond_stage_model.transformer.text_model.*`; the built `CLIPTextModel` names its weights from
  /// `encoder.`): W + scale·(α/rank)·up·down on exactly those weights; a module the text encoder
  /// lacks is refused by name.
  @Test func aTextEncoderLoRAMergesIntoTheNamedCLIPWeights() throws {
    let g = try Generator(seed: 21)
    let modules = [("text_model_encoder_layers_0_self_attn_q_proj", "encoder.layers.0.self_attn.q_proj.weight", [32, 32]),
                   ("text_model_encoder_layers_1_mlp_fc1", "encoder.layers.1.mlp.fc1.weight", [128, 32])]
    var tensors: [(String, Tensor)] = [], deltas: [String: Tensor] = [:]
    for (name, key, shape) in modules {
      let down = try Tensor.randn([4, shape[1]], generator: g), up = try Tensor.randn([shape[0], 4], generator: g)
      tensors += [("lora_te_\(name).lora_down.weight", down), ("lora_te_\(name).lora_up.weight", up),
                  ("lora_te_\(name).alpha", try Tensor([Float(2)]))]
      deltas[key] = try up.matmul(down) * (0.6 * 2 / 4)
    }
    let folder = try temporaryDirectory("lora-te")
    let file = folder.appendingPathComponent("te.safetensors"), absent = folder.appendingPathComponent("absent.safetensors")
    try SafeTensors.write(tensors, to: file)
    try SafeTensors.write(tensors.map { ($0.0.replacingOccurrences(of: "layers_1_", with: "layers_9_"), $0.1) }, to: absent)

    let single = try TinyStableDiffusion.singleFile(), vocabulary = TinyStableDiffusion.vocabulary
    func textWeights(_ loras: [LoRA]) throws -> [String: Tensor] {
      Dictionary(uniqueKeysWithValues: try StableDiffusionLoader.load(single, vocabulary: vocabulary, loras: loras, textHeads: 4).textEncoder.stateDict())
    }
    let base = try textWeights([]), merged = try textWeights([LoRA(file: file.path, scale: 0.6)])
    let changed = try merged.filter { try $0.value.maxAbsDifference(base[$0.key]!) > 0 }.keys.sorted()
    #expect(changed == deltas.keys.sorted())
    for (key, delta) in deltas {
      #expect(try merged[key]!.maxAbsDifference(base[key]! + delta) < 1e-5, "\(key)")
    }
    #expect { try textWeights([LoRA(file: absent.path, scale: 1)]) }
      throws: { "\($0)".contains("text_model.encoder.layers.9.mlp.fc1") && "\($0)".contains("another model") }
  }
}
