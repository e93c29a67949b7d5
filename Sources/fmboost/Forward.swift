import ArgumentParser
import Checkpoint
import FMBoost
import Foundation
import Pipelines
import StableDiffusion

/// `fmboost forward NETWORK --weights W --inputs I --output O`: one network on tensors from a file,
/// for people porting checkpoints to compare against PyTorch.
struct Forward: ParsableCommand {
  typealias Network = NetworkForward.Network

  static let configuration = CommandConfiguration(
    abstract: "Run one network on tensors from a safetensors file and write its outputs (a parity tool).",
    discussion: paragraphs("""
      - unet: x, t, context -> v; ode: x0, context -> x1 (integrates t from 0 to 1 with --method/--steps)
      - vae-encode: image ([-1, 1]) -> mean, logvar; vae-decode: mean -> decoded
      - taesd-encode: image ([0, 1]) -> latent; taesd-decode: latent -> decoded
      - inception: image (N, 3, 299, 299, the FID network's input range [-1, 1)) -> features (N, 2048)
      - sd-unet: x, t, context, optional timestep_cond (LCM) -> eps; clip-text: input_ids (N, 77) -> last_hidden_state, clip_skip_2
      - sd-sample: x_T, cond, optional uncond and noise.K (the K-th step's draw) -> x_0, with --scheduler, --steps, --cfg-scale (an LCM-distilled UNet takes it as its w-embedding), --spacing (SD1.5's leading, steps_offset 1), --karras

      SD UNets: LDM names (optionally under model.diffusion_model.) or the diffusers layout with a config.json beside the file or in its metadata;
      --lora FILE[:SCALE] merges a LoRA first. The architecture comes from the JSON under the weights' safetensors metadata key `config` (the
      original constructor arguments) or from --config FILE; TAESD variants are read from the weights.
      """))

  @Argument(help: "unet, ode, vae-encode, vae-decode, taesd-encode, taesd-decode, inception, sd-unet, clip-text or sd-sample.") var network: Network
  @Option(help: "The network's weights (safetensors, .ckpt or .pth).") var model: String
  @Option(help: "Input tensors (safetensors).") var inputs: String
  @Option(help: "Where to write the outputs (safetensors).") var output: String
  @Option(help: "A JSON file with the architecture's constructor arguments.") var config: String?
  @Option(help: "ode: the method (euler, midpoint, heun, rk4, rk4-classic, dopri5).") var method: ODEMethod = .euler
  @Option(help: "ode: integration steps; the grid is linspace(0, 1, steps + 1); sd-sample: sampling steps.") var steps: Int = 40
  @Option(help: "sd-sample: ddim, euler, euler-a, dpmpp-2m or lcm.") var scheduler: SamplerKind = .ddim
  @Option(help: "sd-sample: the guidance scale.") var cfgScale: Double = 7.5
  @Option(help: "sd-sample: timestep spacing (leading, linspace, trailing).") var spacing: NoiseSchedule.Spacing = .leading
  @Flag(help: "sd-sample: Karras σ (euler, euler-a, dpmpp-2m).") var karras = false
  @Option(help: "sd-unet, sd-sample: a LoRA FILE[:SCALE] merged into the UNet; repeatable.") var lora: [String] = []
  @Option(help: "ode: absolute tolerance of dopri5.") var atol: Double = ODETolerance.defaultAtol
  @Option(help: "ode: relative tolerance of dopri5.") var rtol: Double = ODETolerance.defaultRtol
  @OptionGroup var overwrite: ForceOption
  @OptionGroup var placement: DeviceOption

  func validate() throws {
    var recipe = UpsamplingRecipe(method: method, steps: steps)
    (recipe.atol, recipe.rtol) = (atol, rtol)
    do { try recipe.validate() } catch { throw ValidationError(CommandError.describe(error)) }
  }

  func run() throws {
    if FileManager.default.fileExists(atPath: output) && !overwrite.force { throw PipelineError.outputExists(output) }
    var forward = NetworkForward(network, weights: model)
    forward.architecture = config
    forward.sampling = FlowSampling(method: method, steps: steps, atol: atol, rtol: rtol)
    (forward.scheduler, forward.cfgScale, forward.spacing, forward.karras, forward.loras) = (scheduler, cfgScale, spacing, karras, lora)
    forward.device = try placement.resolve()
    let start = DispatchTime.now().uptimeNanoseconds
    let (outputs, evaluations) = try forward.run(inputs: inputs)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    if let evaluations { print("\(evaluations) network evaluations") }
    try SafeTensors.write(try outputs.map { ($0.0, try $0.1.contiguous()) }, metadata: ["network": network.rawValue],
                          to: URL(fileURLWithPath: output))
    for (name, t) in outputs { print("\(name) \(t.shape)") }
    print("wrote \(output) (\(String(format: "%.3f", seconds)) s)")
  }
}

extension NetworkForward.Network: ExpressibleByArgument {}
