import Checkpoint
import FMBoost

/// Recognises the checkpoints that are not SD1.x ε-prediction models — SD 2.x, SDXL, inpainting,
/// InstructPix2Pix, v-prediction — and refuses them with what was found, before any weight is read.
public enum StableDiffusionFamily {
  static func refuse(_ file: String, _ found: String) -> CheckpointError {
    CheckpointError(file: file, "\(found); this tool runs Stable Diffusion 1.x (ε-prediction, text width 768) and LCM versions of it")
  }

  /// What the UNet's input and text widths say (other text widths are the loader's to match with
  /// the text encoder: small test models have them).
  static func checkWidths(inChannels: Int, contextDim: Int, file: String) throws {
    switch inChannels {
    case 4: break
    case 9: throw refuse(file, "is an inpainting model (the UNet takes 9 channels: latent, mask, masked image)")
    case 8: throw refuse(file, "is an InstructPix2Pix-style model (the UNet takes 8 channels)")
    default: throw refuse(file, "has a UNet that takes \(inChannels) channels")
    }
    switch contextDim {
    case 768: break
    case 1024: throw refuse(file, "is a Stable Diffusion 2.x model (text width 1024, OpenCLIP ViT-H)")
    case 2048: throw refuse(file, "is an SDXL model (text width 2048)")
    default: break
    }
  }

  public static func checkSingleFile(_ shapes: [String: [Int]], file: String) throws {
    let keys = shapes.keys
    if keys.contains(where: { $0.hasPrefix("conditioner.embedders.") }) { throw refuse(file, "is an SDXL model (conditioner.embedders.*)") }
    if shapes["model.diffusion_model.label_emb.0.0.weight"] != nil { throw refuse(file, "is an SDXL or unCLIP model (its UNet has a label embedding)") }
    if keys.contains(where: { $0.hasPrefix("cond_stage_model.model.") }) { throw refuse(file, "is a Stable Diffusion 2.x model (OpenCLIP text encoder cond_stage_model.model.*)") }
    if shapes["v_pred"] != nil { throw refuse(file, "is a v-prediction model (it has the v_pred marker)") }
    let parts = ["model.diffusion_model.": "the UNet", "first_stage_model.": "the autoencoder", "cond_stage_model.transformer.": "the CLIP text encoder"]
    let missing = parts.filter { prefix, _ in !keys.contains { $0.hasPrefix(prefix) } }
    if !missing.isEmpty {
      let roots = Set(keys.map { $0.split(separator: ".").prefix(2).joined(separator: ".") }).sorted().prefix(8)
      throw CheckpointError(file: file, "is not a complete SD single file: it lacks \(missing.values.sorted().joined(separator: ", ")) (\(missing.keys.sorted().map { $0 + "*" }.joined(separator: ", "))); it holds \(roots.joined(separator: ", "))")
    }
    guard let stem = shapes["model.diffusion_model.input_blocks.0.0.weight"], stem.count == 4 else {
      throw CheckpointError(file: file, "the UNet has no 4-d model.diffusion_model.input_blocks.0.0.weight")
    }
    let widths = Set(shapes.compactMap { $0.key.hasPrefix("model.diffusion_model.") && $0.key.hasSuffix("attn2.to_k.weight") ? $0.value.last : nil })
    try checkWidths(inChannels: stem[1], contextDim: [1024, 2048].first(where: widths.contains) ?? widths.first ?? 768, file: file)
  }

  public static func checkFolder(index: [String: Any], folder: String) throws {
    let name = index["_class_name"] as? String ?? ""
    if name.contains("XL") { throw refuse(folder + "/model_index.json", "is an SDXL pipeline (\(name))") }
    if name.contains("Inpaint") { throw refuse(folder + "/model_index.json", "is an inpainting pipeline (\(name))") }
    if ["InstructPix2Pix", "Upscale", "Depth", "UnCLIP"].contains(where: name.contains) {
      throw refuse(folder + "/model_index.json", "is a \(name)")
    }
  }

  public static func checkDiffusersUNet(_ json: [String: Any], file: String) throws {
    if let extra = json["addition_embed_type"] as? String { throw refuse(file, "is an SDXL-style UNet (addition_embed_type \(extra))") }
    let context = (json["cross_attention_dim"] as? Int) ?? ((json["cross_attention_dim"] as? [Int])?.first ?? 768)
    try checkWidths(inChannels: json["in_channels"] as? Int ?? 4, contextDim: context, file: file)
  }
}
