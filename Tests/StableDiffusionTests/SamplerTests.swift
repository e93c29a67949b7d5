import Checkpoint
import FMBoost
import Foundation
import NN
import StableDiffusion
import Testing
import TestSupport
import Torch

/// Whole sampling loops of `golden-sd/sched_*.safetensors` (diffusers 0.42): the tiny text
/// encoder's cond/uncond, the tiny UNet from the stored x_T, every step's network input, ε, x̂₀ (or
/// LCM's denoised) and next sample, with the stored noise of the stochastic steps, and the final x₀.
@Suite struct SamplerTests {
  static let root = Shared.root + "/golden-sd/"

  static func tinyUNet() throws -> SDUNet {
    var config = SDUNetConfig()
    config.modelChannels = 32
    config.channelMult = [1, 2, 3, 3]
    config.contextDim = 32
    return try WeightFile.build(WeightFile.stateDict(root + "sd_unet_tiny.ldm.safetensors", prefix: "model.diffusion_model."), file: "unet") {
      try SDUNet(config, $0)
    }
  }

  /// The LCM-distilled tiny UNet, in diffusers layout, with its config from the file's metadata.
  static func tinyLCMUNet() throws -> SDUNet {
    let path = root + "sd_unet_tiny_lcm.diffusers.safetensors"
    let metadata = try SafeTensorsFile(path: path).metadata["config"]!
    let json = try #require(try JSONSerialization.jsonObject(with: Data(metadata.utf8)) as? [String: Any])
    let config = try SDUNetConfig(diffusers: try #require(json["diffusers"] as? [String: Any]), source: path)
    #expect(config.timeCondProjDim == 16 && config.channelMult == [1, 1, 1, 1] && config.attentionResolutions == [1, 2, 4])
    let tensors = try DiffusersUNetKeys.toLDM(WeightFile.stateDict(path), layersPerBlock: config.numResBlocks)
    return try WeightFile.build(tensors, file: path) { try SDUNet(config, $0) }
  }

  /// Runs the fixture's loop: `eps(unet input, t, cond, uncond)` is the guided prediction.
  static func loop(_ fixtureName: String, sampler: any DiffusionSampler, denoised: String? = "pred_x0",
                   eps: (Tensor, Tensor, Tensor, Tensor) throws -> Tensor) throws {
    let fixture = try SafeTensorsFile(path: root + fixtureName)
    let text = try CLIPTextLoader.load(root + "clip_text_tiny.ldm.safetensors")
    func close(_ a: Tensor, _ b: Tensor, _ what: String) throws {
      let error = try a.maxAbsDifference(b), scale = try b.abs().max().item()
      #expect(error <= 1e-4 * max(1, scale), "\(fixtureName) \(what): \(error) at scale \(scale)")
    }
    try withNoGrad {
      let cond = try text(fixture.tensor("cond_ids")), uncond = try text(fixture.tensor("uncond_ids"))
      try close(cond, fixture.tensor("cond"), "cond")
      try close(uncond, fixture.tensor("uncond"), "uncond")
      let reference = try fixture.tensor("timesteps").toArray(Double.self)
      #expect(sampler.timesteps.count == reference.count && zip(sampler.timesteps, reference).allSatisfy { abs($0 - $1) <= 1e-3 },
              "\(fixtureName) timesteps \(sampler.timesteps) against \(reference)")
      var sampler = sampler
      var x = try fixture.tensor("x_T")
      for (i, t) in sampler.timesteps.enumerated() {
        let modelInput = try sampler.modelInput(x, step: i)
        try close(modelInput, fixture.tensor("step\(i).model_input"), "step \(i) model input")
        let e = try eps(modelInput, Tensor([Float(t)]), cond, uncond)
        try close(e, fixture.tensor("step\(i).eps"), "step \(i) eps")
        let (prev, predX0) = try sampler.step(x, eps: e, step: i, noise: { try fixture.tensor("step\(i).noise") })
        if let denoised { try close(predX0, fixture.tensor("step\(i).\(denoised)"), "step \(i) \(denoised)") }
        try close(prev, fixture.tensor("step\(i).prev_sample"), "step \(i) prev")
        x = prev
      }
      let final = try fixture.tensor("x_0")
      print(String(format: "%@ %d steps: final x0 max abs error %.2e (scale %.2f)", fixtureName, sampler.timesteps.count,
                   try x.maxAbsDifference(final), try final.abs().max().item()))
      try close(x, final, "x_0")
    }
  }

  /// Classifier-free guidance at 7.5 with the tiny UNet (two passes).
  static func guided(_ unet: SDUNet) -> (Tensor, Tensor, Tensor, Tensor) throws -> Tensor {
    { x, t, cond, uncond in try classifierFreeGuidance(uncond: unet(x, t: t, context: uncond), cond: unet(x, t: t, context: cond), scale: 7.5) }
  }

  @Test func tenGuidedDDIMStepsMatchDiffusers() throws {
    try Self.loop("sched_ddim.safetensors", sampler: DDIMSampler(steps: 10), eps: Self.guided(Self.tinyUNet()))
  }

  @Test func eightGuidedEulerStepsMatchDiffusers() throws {
    let sampler = EulerSampler(steps: 8)
    let fixture = try SafeTensorsFile(path: Self.root + "sched_euler.safetensors")
    #expect(zip(sampler.sigmas, try fixture.tensor("sigmas").toArray(Double.self)).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, $1) })
    #expect(abs(sampler.initNoiseSigma - 7.4393630027771) < 1e-4)
    try Self.loop("sched_euler.safetensors", sampler: sampler, eps: Self.guided(Self.tinyUNet()))
  }

  @Test func eightGuidedDPMSolverPlusPlusStepsMatchDiffusers() throws {
    let sampler = try SamplerKind.dpmSolver.make(steps: 8)
    let fixture = try SafeTensorsFile(path: Self.root + "sched_dpmpp_2m.safetensors")
    let sigmas = try #require(sampler as? DPMSolverSampler).sigmas
    #expect(zip(sigmas, try fixture.tensor("sigmas").toArray(Double.self)).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, $1) })
    #expect(sampler.initNoiseSigma == 1)
    try Self.loop("sched_dpmpp_2m.safetensors", sampler: sampler, denoised: nil, eps: Self.guided(Self.tinyUNet()))
  }

  /// LCM on the distilled UNet: guidance 8.5 goes in as the w-embedding of w = 7.5, one pass a step.
  @Test func fourLCMStepsWithTheGuidanceEmbeddingMatchDiffusers() throws {
    let fixture = try SafeTensorsFile(path: Self.root + "sched_lcm.safetensors")
    let w = try guidanceEmbedding(8.5 - 1, dim: 16)
    let reference = try fixture.tensor("w_embedding")
    let error = try w.maxAbsDifference(reference)
    #expect(error <= 1e-5, "w_embedding: \(error)")
    let unet = try Self.tinyLCMUNet()
    #expect(throws: TorchError.self) { try withNoGrad { try unet(fixture.tensor("x_T"), t: Tensor([Float(999)]), context: fixture.tensor("cond")) } }
    try Self.loop("sched_lcm.safetensors", sampler: LCMSampler(steps: 4), denoised: "denoised") { x, t, cond, _ in
      try unet(x, t: t, context: cond, timestepCond: w)
    }
  }

  /// LCM's scheduler on a plain UNet at guidance 1 (how LCM-LoRA runs): the conditional pass alone.
  @Test func fourLCMStepsOnAPlainUNetMatchDiffusers() throws {
    let unet = try Self.tinyUNet()
    try Self.loop("sched_lcm_lora_style.safetensors", sampler: LCMSampler(steps: 4), denoised: "denoised") { x, t, cond, _ in
      try unet(x, t: t, context: cond)
    }
  }
}
