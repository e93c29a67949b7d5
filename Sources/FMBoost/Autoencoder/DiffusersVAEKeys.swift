import Torch

/// The key map from the diffusers layout of the SD autoencoder (`encoder.down_blocks.0.resnets.0.conv1.weight`,
/// linear attention projections) to the LDM layout this project and `sd_ae.ckpt` use
/// (`encoder.down.0.block.0.conv1.weight`, 1×1 convolutions):
///
/// | diffusers | LDM |
/// | --- | --- |
/// | `{en,de}coder.conv_norm_out` | `{en,de}coder.norm_out` |
/// | `encoder.down_blocks.i.resnets.j` | `encoder.down.i.block.j` |
/// | `encoder.down_blocks.i.downsamplers.0.conv` | `encoder.down.i.downsample.conv` |
/// | `decoder.up_blocks.i.resnets.j` | `decoder.up.(L−1−i).block.j` (diffusers counts from the lowest resolution) |
/// | `decoder.up_blocks.i.upsamplers.0.conv` | `decoder.up.(L−1−i).upsample.conv` |
/// | `*.mid_block.resnets.0` / `.1` | `*.mid.block_1` / `block_2` |
/// | `*.mid_block.attentions.0.group_norm` | `*.mid.attn_1.norm` |
/// | `...to_q` / `to_k` / `to_v` / `to_out.0` (or `query` / `key` / `value` / `proj_attn`) | `...q` / `k` / `v` / `proj_out`, weights reshaped (C, C) → (C, C, 1, 1) |
/// | `conv_shortcut` (in resnets) | `nin_shortcut` |
public enum DiffusersVAEKeys {
  /// Whether a state_dict is in the diffusers layout.
  public static func isDiffusersLayout(_ keys: some Sequence<String>) -> Bool {
    keys.contains { $0.hasPrefix("encoder.down_blocks.") || $0.hasPrefix("decoder.up_blocks.") }
  }

  /// Renames (and reshapes) a diffusers-layout state_dict into the LDM layout. `levels` is the number
  /// of resolution levels (`len(ch_mult)`, 4 for SD).
  public static func toLDM(_ stateDict: [String: Tensor], levels: Int) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for (key, tensor) in stateDict {
      let (name, isAttentionProjection) = try rename(key, levels: levels)
      var value = tensor
      if isAttentionProjection && key.hasSuffix(".weight") && tensor.rank == 2 {
        value = try tensor.reshape(tensor.shape + [1, 1])
      }
      result[name] = value
    }
    return result
  }

  static func rename(_ key: String, levels: Int) throws -> (String, Bool) {
    var parts = key.split(separator: ".").map(String.init)
    var attention = false
    func replace(_ i: Int, with new: [String], count: Int) { parts.replaceSubrange(i..<(i + count), with: new) }
    guard parts.count >= 2 else { return (key, false) }
    if let i = parts.firstIndex(of: "conv_norm_out") { parts[i] = "norm_out" }
    if parts.count > 3, parts[1] == "down_blocks" {
      let level = parts[2]
      if parts[3] == "resnets" { replace(1, with: ["down", level, "block"], count: 3) }
      else if parts[3] == "downsamplers" { replace(1, with: ["down", level, "downsample"], count: 4) }
    } else if parts.count > 3, parts[1] == "up_blocks", let index = Int(parts[2]) {
      let level = String(levels - 1 - index)
      if parts[3] == "resnets" { replace(1, with: ["up", level, "block"], count: 3) }
      else if parts[3] == "upsamplers" { replace(1, with: ["up", level, "upsample"], count: 4) }
    } else if parts.count > 4, parts[1] == "mid_block" {
      if parts[2] == "resnets" {
        replace(1, with: ["mid", parts[3] == "0" ? "block_1" : "block_2"], count: 3)
      } else if parts[2] == "attentions" {
        replace(1, with: ["mid", "attn_1"], count: 3)
        attention = true
        let names = ["group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "query": "q", "key": "k", "value": "v", "proj_attn": "proj_out"]
        if parts.count > 4, parts[3] == "to_out", parts[4] == "0" {
          replace(3, with: ["proj_out"], count: 2)
        } else if let new = names[parts[3]] {
          parts[3] = new
        }
      }
    }
    if let i = parts.firstIndex(of: "conv_shortcut") { parts[i] = "nin_shortcut" }
    return (parts.joined(separator: "."), attention && !parts.contains("norm"))
  }
}
