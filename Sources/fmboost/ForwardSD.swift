import Checkpoint
import FMBoost
import Foundation
import Torch

/// The Stable Diffusion networks of `fmboost forward`: sd-unet, clip-text and sd-sample.
extension Forward {
  func runStableDiffusion(_ input: (String, Int, Int?) throws -> Tensor, file: SafeTensorsFile) throws -> [(String, Tensor)] {
    switch network {
    case .sdUNet:
      let unet = try SDUNetLoader.load(weights, loras: lora.map(LoRA.init(argument:)))
      let x = try input("x", 4, unet.config.inChannels)
      let t = try input("t", 1, nil), context = try input("context", 3, nil)
      let cond = file.entries["timestep_cond"] == nil ? nil : try input("timestep_cond", 2, nil)
      return [("eps", try unet(x, t: t, context: context, timestepCond: cond))]
    case .clipText:
      let text = try CLIPTextLoader.load(weights)
      guard file.entries["input_ids"]?.shape.count == 2 else { throw CommandError("\(inputs): clip-text needs input_ids (N, 77)") }
      let ids = try file.tensor("input_ids").to(.int64)
      var outputs = [("last_hidden_state", try text(ids))]
      if text.config.numHiddenLayers >= 2 { outputs.append(("clip_skip_2", try text(ids, clipSkip: 2))) }
      return outputs
    default:
      let unet = try SDUNetLoader.load(weights, loras: lora.map(LoRA.init(argument:)))
      var sampler = try scheduler.make(steps: steps, spacing: spacing, karras: karras)
      let xT = try input("x_T", 4, unet.config.inChannels)
      let cond = try input("cond", 3, nil)
      let uncond = file.entries["uncond"] == nil ? nil : try input("uncond", 3, nil)
      if uncond == nil && unet.config.timeCondProjDim == nil && cfgScale > 1 {
        throw CommandError("\(inputs): --cfg-scale \(cfgScale) needs the unconditional embedding 'uncond'")
      }
      let x0 = try unet.sample(from: xT, sampler: &sampler, cond: cond, uncond: uncond, guidance: cfgScale, noise: { k in
        guard file.entries["noise.\(k)"] != nil else {
          throw CommandError("\(inputs): the \(scheduler.rawValue) sampler draws noise at step \(k): give it as 'noise.\(k)'")
        }
        return try input("noise.\(k)", 4, unet.config.inChannels)
      })
      return [("x_0", x0)]
    }
  }
}
