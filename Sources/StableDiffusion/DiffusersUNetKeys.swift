import FMBoost
import Torch

/// diffusers' UNet2DConditionModel names → LDM's UNetModel names (the inverse of diffusers'
/// `convert_ldm_unet_checkpoint`, for SD1.x layouts):
///
/// | diffusers | LDM |
/// | --- | --- |
/// | `conv_in`, `time_embedding.linear_1`/`_2`, `conv_norm_out`, `conv_out` | `input_blocks.0.0`, `time_embed.0`/`.2`, `out.0`, `out.2` |
/// | `time_embedding.cond_proj` (LCM) | `time_cond_proj` (ours: LDM has no name for it) |
/// | `down_blocks.i.resnets.j` / `.attentions.j` | `input_blocks.(1 + i·(L+1) + j).0` / `.1` |
/// | `down_blocks.i.downsamplers.0.conv` | `input_blocks.((i+1)·(L+1)).0.op` |
/// | `mid_block.resnets.0`, `.attentions.0`, `.resnets.1` | `middle_block.0`, `.1`, `.2` |
/// | `up_blocks.i.resnets.j` / `.attentions.j` (j ≤ L) | `output_blocks.(i·(L+1) + j).0` / `.1` |
/// | `up_blocks.i.upsamplers.0.conv` | `output_blocks.(i·(L+1) + L).1.conv`, or `.2.conv` after an attention |
/// | resnet `norm1`, `conv1`, `time_emb_proj`, `norm2`, `conv2`, `conv_shortcut` | `in_layers.0`, `in_layers.2`, `emb_layers.1`, `out_layers.0`, `out_layers.3`, `skip_connection` |
///
/// L is `layers_per_block` (num_res_blocks); transformer blocks keep their names.
public enum DiffusersUNetKeys {
  public static func isDiffusersLayout(_ keys: some Sequence<String>) -> Bool {
    keys.contains { $0.hasPrefix("down_blocks.") || $0.hasPrefix("mid_block.") }
  }

  /// The LDM key of diffusers key `key`; `upBlocksWithAttention`: the indices of the up blocks that
  /// have attentions (their upsampler follows the attention). Throws for a key it does not know.
  public static func ldmKey(_ key: String, layersPerBlock l: Int, upBlocksWithAttention: Set<Int>) throws -> String {
    var parts = key.split(separator: ".").map(String.init)
    func int(_ i: Int) throws -> Int {
      guard i < parts.count, let value = Int(parts[i]) else { throw unknown(key) }
      return value
    }
    let resnetNames = ["norm1": ["in_layers", "0"], "conv1": ["in_layers", "2"], "time_emb_proj": ["emb_layers", "1"],
                       "norm2": ["out_layers", "0"], "conv2": ["out_layers", "3"], "conv_shortcut": ["skip_connection"]]
    func resnet(_ head: [String], rest: ArraySlice<String>) throws -> [String] {
      guard let first = rest.first, let mapped = resnetNames[first] else { throw unknown(key) }
      return head + mapped + rest.dropFirst()
    }
    let simple = ["conv_in": ["input_blocks", "0", "0"], "conv_norm_out": ["out", "0"], "conv_out": ["out", "2"]]
    if let mapped = simple[parts[0]] { return (mapped + parts.dropFirst()).joined(separator: ".") }
    switch parts[0] {
    case "time_embedding" where parts.count > 1 && parts[1] == "cond_proj":
      return (["time_cond_proj"] + parts.dropFirst(2)).joined(separator: ".")
    case "time_embedding" where parts.count > 1:
      guard let index = ["linear_1": "0", "linear_2": "2"][parts[1]] else { break }
      parts.replaceSubrange(0..<2, with: ["time_embed", index])
      return parts.joined(separator: ".")
    case "down_blocks":
      let (i, kind) = (try int(1), parts.count > 2 ? parts[2] : "")
      if kind == "downsamplers" { return (["input_blocks", "\((i + 1) * (l + 1))", "0", "op"] + parts.dropFirst(5)).joined(separator: ".") }
      let block = "\(1 + i * (l + 1) + (try int(3)))"
      if kind == "resnets" { return try resnet(["input_blocks", block, "0"], rest: parts[4...]).joined(separator: ".") }
      if kind == "attentions" { return (["input_blocks", block, "1"] + parts[4...]).joined(separator: ".") }
    case "mid_block":
      let (kind, j) = (parts.count > 1 ? parts[1] : "", try int(2))
      if kind == "resnets" { return try resnet(["middle_block", j == 0 ? "0" : "2"], rest: parts[3...]).joined(separator: ".") }
      if kind == "attentions" { return (["middle_block", "1"] + parts[3...]).joined(separator: ".") }
    case "up_blocks":
      let (i, kind) = (try int(1), parts.count > 2 ? parts[2] : "")
      if kind == "upsamplers" {
        let index = upBlocksWithAttention.contains(i) ? "2" : "1"
        return (["output_blocks", "\(i * (l + 1) + l)", index] + parts.dropFirst(4)).joined(separator: ".")
      }
      let block = "\(i * (l + 1) + (try int(3)))"
      if kind == "resnets" { return try resnet(["output_blocks", block, "0"], rest: parts[4...]).joined(separator: ".") }
      if kind == "attentions" { return (["output_blocks", block, "1"] + parts[4...]).joined(separator: ".") }
    default: break
    }
    throw unknown(key)
  }

  static func unknown(_ key: String) -> TorchError {
    TorchError.invalidArgument("'\(key)' is not a diffusers UNet key this tool knows")
  }

  /// Renames a diffusers-layout state_dict; `layersPerBlock` is the config's `layers_per_block`.
  public static func toLDM<T>(_ entries: [String: T], layersPerBlock: Int) throws -> [String: T] {
    let withAttention = Set(entries.keys.compactMap { key -> Int? in
      let p = key.split(separator: ".")
      return p.count > 2 && p[0] == "up_blocks" && p[2] == "attentions" ? Int(p[1]) : nil
    })
    var result: [String: T] = [:]
    for (key, value) in entries { result[try ldmKey(key, layersPerBlock: layersPerBlock, upBlocksWithAttention: withAttention)] = value }
    return result
  }
}
