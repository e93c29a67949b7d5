import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// The whole DDIM loop of `golden-sd/sched_ddim.safetensors` (diffusers 0.42): the tiny text
/// encoder's cond/uncond, 10 steps of the tiny UNet with guidance 7.5 from the stored x_T, every
/// step's ε, x̂₀ and x_prev, and the final x₀.
@Suite struct DDIMSamplerTests {
  @Test func tenGuidedStepsMatchDiffusers() throws {
    let root = Shared.root + "/golden-sd/"
    let fixture = try SafeTensorsFile(path: root + "sched_ddim.safetensors")
    let text = try CLIPTextLoader.load(root + "clip_text_tiny.ldm.safetensors")
    var config = SDUNetConfig()
    config.modelChannels = 32
    config.channelMult = [1, 2, 3, 3]
    config.contextDim = 32
    let unet = try WeightFile.build(WeightFile.stateDict(root + "sd_unet_tiny.ldm.safetensors", prefix: "model.diffusion_model."), file: "unet") {
      try SDUNet(config, $0)
    }
    func close(_ a: Tensor, _ b: Tensor, _ what: String) throws {
      let error = try a.maxAbsDifference(b), scale = try b.abs().max().item()
      #expect(error <= 1e-4 * max(1, scale), "\(what): \(error) at scale \(scale)")
    }
    try withNoGrad {
      let cond = try text(fixture.tensor("cond_ids")), uncond = try text(fixture.tensor("uncond_ids"))
      try close(cond, fixture.tensor("cond"), "cond")
      try close(uncond, fixture.tensor("uncond"), "uncond")
      let sampler = DDIMSampler(steps: 10)
      #expect(sampler.timesteps == (try fixture.tensor("timesteps").toArray(Double.self)))
      var x = try fixture.tensor("x_T")
      for (i, t) in sampler.timesteps.enumerated() {
        let tensorT = try Tensor([Float(t)])
        let eps = try classifierFreeGuidance(uncond: unet(x, t: tensorT, context: uncond), cond: unet(x, t: tensorT, context: cond), scale: 7.5)
        try close(eps, fixture.tensor("step\(i).eps"), "step \(i) eps")
        let (prev, predX0) = try sampler.step(x, eps: eps, t: t)
        try close(predX0, fixture.tensor("step\(i).pred_x0"), "step \(i) pred_x0")
        try close(prev, fixture.tensor("step\(i).prev_sample"), "step \(i) prev")
        x = prev
      }
      let reference = try fixture.tensor("x_0")
      print(String(format: "DDIM 10 steps, CFG 7.5: final x0 max abs error %.2e (scale %.2f)", try x.maxAbsDifference(reference), try reference.abs().max().item()))
      try close(x, reference, "x_0")
    }
  }
}
