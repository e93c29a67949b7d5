import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// Whole guided sampling loops of `golden-sd/sched_*.safetensors` (diffusers 0.42): the tiny text
/// encoder's cond/uncond, the tiny UNet with guidance 7.5 from the stored x_T, every step's network
/// input, ε, x̂₀ and next sample, and the final x₀.
@Suite struct SamplerTests {
  static let root = Shared.root + "/golden-sd/"

  /// Runs `steps` steps: `input(x, i)` is the network's input, `step(x, eps, i)` the scheduler.
  static func guidedLoop(_ fixtureName: String, timesteps: [Double],
                         input: (Tensor, Int) throws -> Tensor, step: (Tensor, Tensor, Int) throws -> (prev: Tensor, predX0: Tensor)) throws {
    let fixture = try SafeTensorsFile(path: root + fixtureName)
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
      #expect(error <= 1e-4 * max(1, scale), "\(fixtureName) \(what): \(error) at scale \(scale)")
    }
    try withNoGrad {
      let cond = try text(fixture.tensor("cond_ids")), uncond = try text(fixture.tensor("uncond_ids"))
      try close(cond, fixture.tensor("cond"), "cond")
      try close(uncond, fixture.tensor("uncond"), "uncond")
      #expect(timesteps == (try fixture.tensor("timesteps").toArray(Double.self)))
      var x = try fixture.tensor("x_T")
      for (i, t) in timesteps.enumerated() {
        let modelInput = try input(x, i)
        try close(modelInput, fixture.tensor("step\(i).model_input"), "step \(i) model input")
        let tensorT = try Tensor([Float(t)])
        let eps = try classifierFreeGuidance(
          uncond: unet(modelInput, t: tensorT, context: uncond), cond: unet(modelInput, t: tensorT, context: cond), scale: 7.5)
        try close(eps, fixture.tensor("step\(i).eps"), "step \(i) eps")
        let (prev, predX0) = try step(x, eps, i)
        try close(predX0, fixture.tensor("step\(i).pred_x0"), "step \(i) pred_x0")
        try close(prev, fixture.tensor("step\(i).prev_sample"), "step \(i) prev")
        x = prev
      }
      let reference = try fixture.tensor("x_0")
      print(String(format: "%@ %d steps, CFG 7.5: final x0 max abs error %.2e (scale %.2f)", fixtureName, timesteps.count, try x.maxAbsDifference(reference), try reference.abs().max().item()))
      try close(x, reference, "x_0")
    }
  }

  @Test func tenGuidedDDIMStepsMatchDiffusers() throws {
    let sampler = DDIMSampler(steps: 10)
    try Self.guidedLoop("sched_ddim.safetensors", timesteps: sampler.timesteps, input: { x, _ in x }) { x, eps, i in
      try sampler.step(x, eps: eps, t: sampler.timesteps[i])
    }
  }

  @Test func eightGuidedEulerStepsMatchDiffusers() throws {
    let sampler = EulerSampler(steps: 8)
    let fixture = try SafeTensorsFile(path: Self.root + "sched_euler.safetensors")
    #expect(zip(sampler.sigmas, try fixture.tensor("sigmas").toArray(Double.self)).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, $1) })
    #expect(abs(sampler.initNoiseSigma() - 7.4393630027771) < 1e-4)
    try Self.guidedLoop("sched_euler.safetensors", timesteps: sampler.timesteps, input: { x, i in try sampler.scaleModelInput(x, step: i) }) { x, eps, i in
      try sampler.step(x, eps: eps, step: i)
    }
  }
}
