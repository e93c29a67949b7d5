import Checkpoint
import FMBoost
import Foundation
import Torch

/// Loads SD1.x from what users hold: a single file (`.safetensors` or `.ckpt`, LDM prefixes
/// `model.diffusion_model.`, `first_stage_model.`, `cond_stage_model.transformer.`; `model_ema.*`
/// ignored; fp16 or fp32) or a diffusers folder (`unet/`, `vae/`, `text_encoder/`, `tokenizer/`,
/// `scheduler/`, `model_index.json`). Other families are refused by `StableDiffusionFamily`.
/// LoRAs are merged into the weights as they are taken.
public enum StableDiffusionLoader {
  public typealias Entries = [String: () throws -> Tensor]

  /// `vocabulary`: the CLIP BPE file for single files (they hold no tokenizer); `heads`: the UNet's
  /// number of heads where a file does not say (SD1.x: 8); `textHeads` the text encoder's (a single
  /// file's default: width/64, ViT-L/14's 12).
  public static func load(_ path: String, vocabulary: String?, loras: [LoRA] = [], heads: Int = 8, textHeads: Int? = nil, device: Device = .cpu) throws -> StableDiffusionModel {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw CheckpointError(file: path, "does not exist") }
    return isFolder.boolValue ? try loadFolder(path, loras: loras, device: device) : try loadSingleFile(path, vocabulary: vocabulary, loras: loras, heads: heads, textHeads: textHeads, device: device)
  }

  static func loadSingleFile(_ path: String, vocabulary: String?, loras: [LoRA], heads: Int, textHeads: Int?, device: Device) throws -> StableDiffusionModel {
    guard let vocabulary else {
      throw CheckpointError(file: path, "a single file holds no tokenizer: run `make clip-vocab` or give the path of openai/CLIP's bpe_simple_vocab_16e6.txt.gz")
    }
    let tokenizer = try CLIPTokenizer(bpeFile: vocabulary)
    let file = try TensorFile(path: path)
    let shapes = try file.shapes()
    try StableDiffusionFamily.checkSingleFile(shapes, file: path)
    let all = try file.lazyStateDict()
    func part(_ prefix: String) throws -> (Entries, [String: [Int]]) {
      (Dictionary(try StateDictSelection.strip(all, prefix: prefix, file: path), uniquingKeysWith: { a, _ in a }),
       try SDUNetLoader.strip(shapes, prefix: prefix, file: path))
    }
    let (unetEntries, unetShapes) = try part("model.diffusion_model.")
    let unetConfig = try SDUNetConfig(ldmShapes: unetShapes, heads: heads, file: path)
    let unet = try SDUNetLoader.build(unetEntries, shapes: unetShapes, config: unetConfig, loras: loras, file: path, device: device)
    var textEntries = all.filter { $0.0.hasPrefix("cond_stage_model.transformer.") }
    try mergeText(loras, into: &textEntries, shapes: shapes)
    let text = try CLIPTextLoader.build(textEntries, shapes: shapes, heads: textHeads, file: path, device: device)
    let (vaeEntries, vaeShapes) = try part("first_stage_model.")
    let vaeConfig = try AutoencoderKLConfig(ldmShapes: vaeShapes, file: path)
    let vae = try WeightFile.build(vaeEntries, file: path, device: device) { try AutoencoderKL(vaeConfig, $0) }
    return try StableDiffusionModel(tokenizer: tokenizer, textEncoder: text, unet: unet, vae: vae, source: path)
  }

  /// The LoRAs' text-encoder modules merged into the CLIP entries, wherever their prefix puts them.
  static func mergeText(_ loras: [LoRA], into entries: inout [(String, () throws -> Tensor)], shapes: [String: [Int]]) throws {
    guard !loras.isEmpty, let prefix = CLIPTextLoader.prefix(in: shapes) else { return }
    for lora in loras { try lora.mergeText(into: &entries, prefix: prefix, shapes: shapes) }
  }

  static func loadFolder(_ folder: String, loras: [LoRA], device: Device) throws -> StableDiffusionModel {
    let index = try json(folder + "/model_index.json")
    try StableDiffusionFamily.checkFolder(index: index, folder: folder)
    let schedulerConfig = try? json(folder + "/scheduler/scheduler_config.json")
    if let prediction = schedulerConfig?["prediction_type"] as? String, prediction != "epsilon" {
      throw CheckpointError(file: folder + "/scheduler/scheduler_config.json", "prediction_type is \(prediction): only ε-prediction (SD1.x) models are supported")
    }
    let folderScheduler: SamplerKind? = switch schedulerConfig?["_class_name"] as? String {
    case "LCMScheduler": .lcm
    case "DDIMScheduler": .ddim
    case "EulerDiscreteScheduler": .euler
    case "EulerAncestralDiscreteScheduler": .eulerAncestral
    case "DPMSolverMultistepScheduler": .dpmSolver
    default: nil
    }

    let unetJSON = try json(folder + "/unet/config.json")
    try StableDiffusionFamily.checkDiffusersUNet(unetJSON, file: folder + "/unet/config.json")
    let unetConfig = try SDUNetConfig(diffusers: unetJSON, source: folder + "/unet/config.json")
    let unetFile = try TensorFile(path: try weightFile(folder + "/unet", names: ["diffusion_pytorch_model"]))
    let unet = try SDUNetLoader.build(Dictionary(unetFile.lazyStateDict(), uniquingKeysWith: { a, _ in a }), shapes: unetFile.shapes(),
                                      config: unetConfig, loras: loras, file: unetFile.path, device: device)

    let textConfig = try json(folder + "/text_encoder/config.json")
    let textFile = try TensorFile(path: try weightFile(folder + "/text_encoder", names: ["model", "pytorch_model"]))
    var textEntries = try textFile.lazyStateDict()
    let textShapes = try textFile.shapes()
    try mergeText(loras, into: &textEntries, shapes: textShapes)
    let text = try CLIPTextLoader.build(textEntries, shapes: textShapes, heads: textConfig["num_attention_heads"] as? Int, file: textFile.path, device: device)

    let vaePath = try weightFile(folder + "/vae", names: ["diffusion_pytorch_model"])
    var vaeState = try WeightFile.stateDict(vaePath)
    if DiffusersVAEKeys.isDiffusersLayout(vaeState.keys) {
      let levels = Set(vaeState.keys.compactMap { k -> Int? in
        let p = k.split(separator: ".")
        return p.count > 2 && p[0] == "encoder" && p[1] == "down_blocks" ? Int(p[2]) : nil
      }).count
      vaeState = try DiffusersVAEKeys.toLDM(vaeState, levels: levels)
    }
    let vaeConfig = try AutoencoderKLConfig(ldmShapes: vaeState.mapValues(\.shape), file: vaePath)
    let vae = try WeightFile.build(vaeState, file: vaePath, device: device) { try AutoencoderKL(vaeConfig, $0) }
    let scale = (try? json(folder + "/vae/config.json"))?["scaling_factor"] as? Double ?? 0.18215
    return try StableDiffusionModel(tokenizer: try CLIPTokenizer(folder: folder + "/tokenizer"), textEncoder: text, unet: unet, vae: vae,
                                    latentScale: scale, folderScheduler: folderScheduler, source: folder)
  }

  static func json(_ path: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CheckpointError(file: path, "is missing: a diffusers SD folder has model_index.json, unet/, vae/, text_encoder/ and tokenizer/")
    }
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw CheckpointError(file: path, "is not a JSON object") }
    return object
  }

  /// The first of `names` + `.safetensors`, `.fp16.safetensors`, `.bin` in `folder`.
  static func weightFile(_ folder: String, names: [String]) throws -> String {
    let candidates = names.flatMap { name in [".safetensors", ".fp16.safetensors", ".bin"].map { folder + "/" + name + $0 } }
    guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
      throw CheckpointError(file: folder, "has no weights (looked for \(candidates.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))")
    }
    return found
  }
}
