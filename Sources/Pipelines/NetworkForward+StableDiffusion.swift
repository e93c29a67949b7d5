import Checkpoint
import StableDiffusion
import Torch

/// The Stable Diffusion networks of `NetworkForward`: sd-unet, clip-text and sd-sample.
extension NetworkForward {
  func stableDiffusion(_ inputs: ForwardInputs) throws -> [(String, Tensor)] {
    switch network {
    case .sdUNet:
      let unet = try SDUNetLoader.load(weights, loras: loras.map(LoRA.init(argument:)), device: device)
      let x = try inputs("x", rank: 4, channels: unet.config.inChannels)
      let t = try inputs("t", rank: 1), context = try inputs("context", rank: 3)
      let cond = inputs.has("timestep_cond") ? try inputs("timestep_cond", rank: 2) : nil
      return [("eps", try unet(x, t: t, context: context, timestepCond: cond))]
    case .clipText:
      let text = try CLIPTextLoader.load(weights, device: device)
      guard inputs.file.entries["input_ids"]?.shape.count == 2 else { throw ForwardError("\(inputs.path): clip-text needs input_ids (N, 77)") }
      let ids = try inputs.file.tensor("input_ids").to(.int64).placed(on: device)
      var outputs = [("last_hidden_state", try text(ids))]
      if text.config.numHiddenLayers >= 2 { outputs.append(("clip_skip_2", try text(ids, clipSkip: 2))) }
      return outputs
    default:
      let unet = try SDUNetLoader.load(weights, loras: loras.map(LoRA.init(argument:)), device: device)
      var sampler = try scheduler.make(steps: sampling.steps, spacing: spacing, karras: karras)
      let xT = try inputs("x_T", rank: 4, channels: unet.config.inChannels)
      let cond = try inputs("cond", rank: 3)
      let uncond = inputs.has("uncond") ? try inputs("uncond", rank: 3) : nil
      if uncond == nil && unet.config.timeCondProjDim == nil && cfgScale > 1 {
        throw ForwardError("\(inputs.path): guidance \(cfgScale) needs the unconditional embedding 'uncond'")
      }
      return [("x_0", try unet.sample(from: xT, sampler: &sampler, cond: cond, uncond: uncond, guidance: cfgScale, noise: { k in
        guard inputs.has("noise.\(k)") else {
          throw ForwardError("\(inputs.path): the \(scheduler.rawValue) sampler draws noise at step \(k): give it as 'noise.\(k)'")
        }
        return try inputs("noise.\(k)", rank: 4, channels: unet.config.inChannels)
      }))]
    }
  }
}
