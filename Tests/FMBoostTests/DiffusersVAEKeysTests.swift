import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

@Suite struct DiffusersVAEKeysTests {
  /// LDM → diffusers, written out independently of the code under test (2 levels, as vae_a).
  static func diffusersName(_ key: String) -> String {
    var k = key
    let rules: [(String, String)] = [
      ("encoder.down.0.block.", "encoder.down_blocks.0.resnets."), ("encoder.down.1.block.", "encoder.down_blocks.1.resnets."),
      ("encoder.down.0.downsample.conv", "encoder.down_blocks.0.downsamplers.0.conv"),
      ("decoder.up.1.block.", "decoder.up_blocks.0.resnets."), ("decoder.up.0.block.", "decoder.up_blocks.1.resnets."),
      ("decoder.up.1.upsample.conv", "decoder.up_blocks.0.upsamplers.0.conv"),
      (".mid.block_1.", ".mid_block.resnets.0."), (".mid.block_2.", ".mid_block.resnets.1."),
      (".mid.attn_1.norm.", ".mid_block.attentions.0.group_norm."), (".mid.attn_1.q.", ".mid_block.attentions.0.to_q."),
      (".mid.attn_1.k.", ".mid_block.attentions.0.to_k."), (".mid.attn_1.v.", ".mid_block.attentions.0.to_v."),
      (".mid.attn_1.proj_out.", ".mid_block.attentions.0.to_out.0."), (".norm_out.", ".conv_norm_out."),
      (".nin_shortcut.", ".conv_shortcut."),
    ]
    for (ldm, diffusers) in rules { k = k.replacingOccurrences(of: ldm, with: diffusers) }
    return k
  }

  @Test func diffusersLayoutLoadsAndGivesTheSameNumbers() throws {
    let weights = try SafeTensorsFile(path: Shared.golden("vae_a.weights.safetensors"))
    var diffusers: [String: Tensor] = [:]
    for key in weights.keys {
      var t = try weights.tensor(key)
      if key.contains("mid.attn_1.") && !key.contains(".norm.") && key.hasSuffix(".weight") { t = try t.reshape([t.size(0), t.size(1)]) }
      diffusers[Self.diffusersName(key)] = t
    }
    #expect(diffusers["decoder.up_blocks.0.upsamplers.0.conv.weight"] != nil)
    #expect(DiffusersVAEKeys.isDiffusersLayout(diffusers.keys))
    let ldm = try DiffusersVAEKeys.toLDM(diffusers, levels: 2)
    #expect(Set(ldm.keys) == Set(weights.keys))
    for key in weights.keys { #expect(try ldm[key]!.equal(weights.tensor(key)), "\(key)") }

    // Through the loader, from a file, to the golden numbers.
    let dir = try temporaryDirectory("diffusers")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("vae.safetensors").path
    try SafeTensors.write(diffusers, metadata: weights.metadata, to: URL(fileURLWithPath: path))
    let vae = try AutoencoderLoader.load([path])
    let io = try SafeTensorsFile(path: Shared.golden("vae_a.io.safetensors"))
    let decoded = try withNoGrad { try vae.decode(io.tensor("mean")) }
    #expect(try decoded.maxAbsDifference(io.tensor("decoded")) < 1e-4)
  }
}
