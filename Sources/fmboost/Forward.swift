import ArgumentParser
import Checkpoint
import Evaluation
import FMBoost
import Foundation
import Torch

/// `fmboost forward NETWORK --weights W --inputs I --output O`: one network on tensors from a file,
/// for people porting checkpoints to compare against PyTorch.
struct Forward: ParsableCommand {
  enum Network: String, ExpressibleByArgument, CaseIterable {
    case unet, ode, vaeEncode = "vae-encode", vaeDecode = "vae-decode", taesdEncode = "taesd-encode", taesdDecode = "taesd-decode"
    case inception, sdUNet = "sd-unet", clipText = "clip-text", sdSample = "sd-sample"
  }

  static let configuration = CommandConfiguration(
    abstract: "Run one network on tensors from a safetensors file and write its outputs (a parity tool).",
    discussion: paragraphs("""
      unet:          inputs x, t, context            -> v
      ode:           inputs x0, context              -> x1 (integrates t from 0 to 1 with --method/--steps)
      vae-encode:    image ([-1, 1])                 -> mean, logvar
      vae-decode:    mean                            -> decoded
      taesd-encode:  image ([0, 1])                  -> latent
      taesd-decode:  latent                          -> decoded
      inception:     image (N, 3, 299, 299, the FID network's input range [-1, 1)) -> features (N, 2048)
      sd-unet:       x, t, context, optional timestep_cond (LCM) -> eps
      clip-text:     input_ids (N, 77)               -> last_hidden_state, clip_skip_2
      sd-sample:     x_T, cond, optional uncond and noise.K (the K-th step's draw) -> x_0, with
                     --scheduler, --steps, --cfg-scale (an LCM-distilled UNet takes it as its w-embedding),
                     --spacing (SD1.5's leading, steps_offset 1), --karras
      SD UNets: LDM names (optionally under model.diffusion_model.) or the diffusers layout with a
      config.json beside the file or in its metadata; --lora FILE[:SCALE] merges a LoRA first.
      The architecture comes from the JSON under the weights' safetensors metadata key `config` (the
      original constructor arguments) or from --config FILE; TAESD variants are read from the weights.
      """))

  @Argument(help: "unet, ode, vae-encode, vae-decode, taesd-encode, taesd-decode, inception, sd-unet, clip-text or sd-sample.")
  var network: Network

  @Option(help: "The network's weights (safetensors, .ckpt or .pth).")
  var model: String
  var weights: String { model }

  @Option(help: "Input tensors (safetensors).")
  var inputs: String

  @Option(help: "Where to write the outputs (safetensors).")
  var output: String

  @Option(help: "A JSON file with the architecture's constructor arguments.")
  var config: String?

  @Option(help: "ode: the method (euler, midpoint, heun, rk4, rk4-classic, dopri5).")
  var method: ODEMethod = .euler

  @Option(help: "ode: integration steps; the grid is linspace(0, 1, steps + 1); sd-sample: sampling steps.")
  var steps: Int = 40

  @Option(help: "sd-sample: ddim, euler, euler-a, dpmpp-2m or lcm.")
  var scheduler: SamplerKind = .ddim

  @Option(help: "sd-sample: the guidance scale.")
  var cfgScale: Double = 7.5

  @Option(help: "sd-sample: timestep spacing (leading, linspace, trailing).")
  var spacing: NoiseSchedule.Spacing = .leading

  @Flag(help: "sd-sample: Karras σ (euler, euler-a, dpmpp-2m).")
  var karras = false

  @Option(help: "sd-unet, sd-sample: a LoRA FILE[:SCALE] merged into the UNet; repeatable.")
  var lora: [String] = []

  @Option(help: "ode: absolute tolerance of dopri5.")
  var atol: Double = ODETolerance.defaultAtol

  @Option(help: "ode: relative tolerance of dopri5.")
  var rtol: Double = ODETolerance.defaultRtol

  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    do { try ODETolerance.validate(atol: atol, rtol: rtol) } catch { throw ValidationError("--\(error)") }
  }

  func architecture<C: Decodable>(_ type: C.Type) throws -> C? {
    if let config { return try WeightFile.config(type, jsonFile: config) }
    return try WeightFile.config(type, in: weights)
  }

  func run() throws {
    if FileManager.default.fileExists(atPath: output) && !overwrite.force { throw CommandError("\(output) exists; pass --force to overwrite it") }
    let file = try SafeTensorsFile(path: inputs)
    /// Input `name`, checked to have `rank` dimensions (and `channels` at dimension 1).
    func input(_ name: String, rank: Int, channels: Int? = nil) throws -> Tensor {
      guard let entry = file.entries[name] else { throw CommandError("\(inputs): no tensor named '\(name)' (has: \(file.keys.joined(separator: ", ")))") }
      guard entry.shape.count == rank, channels.map({ entry.shape[1] == $0 }) ?? true else {
        let expected = rank == 4 ? "(N, \(channels.map(String.init) ?? "C"), H, W)" : "\(rank) dimensions"
        throw CommandError("\(inputs): '\(name)' has shape \(entry.shape); \(network.rawValue) needs \(expected)")
      }
      return try file.tensor(name).to(.float32)
    }
    let start = DispatchTime.now().uptimeNanoseconds
    let outputs: [(String, Tensor)] = try withNoGrad {
      switch network {
      case .unet, .ode:
        guard let c = try architecture(EfficientUNetConfig.self) else {
          throw CommandError("\(weights): no architecture config in the metadata; pass --config FILE")
        }
        let flow = try FlowModelLoader.load(weights, config: c).flow
        let x = try input(network == .unet ? "x" : "x0", rank: 4, channels: c.outChannels)
        let context = file.entries["context"] == nil ? nil : try input("context", rank: 4, channels: c.inChannels - c.outChannels)
        if let context, context.shape != x.shape {
          throw CommandError("\(inputs): context \(context.shape) and \(network == .unet ? "x" : "x0") \(x.shape) differ in shape")
        }
        if network == .unet {
          let t = try input("t", rank: 1)
          guard t.size(0) == x.size(0) else { throw CommandError("\(inputs): t has \(t.size(0)) values for a batch of \(x.size(0))") }
          return [("v", try flow.velocity(x, t: t, context: context))]
        }
        let solution = try flow.sample(from: x, context: context, FlowSampling(method: method, steps: steps, atol: atol, rtol: rtol))
        print("\(solution.evaluations) network evaluations")
        return [("x1", solution.final)]
      case .vaeEncode, .vaeDecode:
        let vae = try AutoencoderLoader.load([weights], config: try architecture(AutoencoderKLConfig.self))
        guard let kl = vae as? AutoencoderKL else { throw CommandError("\(weights): not an SD autoencoder (use taesd-encode/-decode)") }
        if network == .vaeDecode { return [("decoded", try kl.decode(input("mean", rank: 4, channels: kl.latentChannels)))] }
        let posterior = try kl.posterior(input("image", rank: 4, channels: 3))
        return [("mean", posterior.mean), ("logvar", posterior.logvar)]
      case .taesdEncode:
        return [("latent", try AutoencoderLoader.load([weights]).encode(input("image", rank: 4, channels: 3)))]
      case .inception:
        return [("features", try FIDInception(path: weights).features(input("image", rank: 4, channels: 3)))]
      case .taesdDecode:
        let taesd = try AutoencoderLoader.load([weights])
        return [("decoded", try taesd.decode(input("latent", rank: 4, channels: taesd.latentChannels)))]
      case .sdUNet, .clipText, .sdSample:
        return try runStableDiffusion({ try input($0, rank: $1, channels: $2) }, file: file)
      }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    try SafeTensors.write(try outputs.map { ($0.0, try $0.1.contiguous()) }, metadata: ["network": network.rawValue],
                          to: URL(fileURLWithPath: output))
    for (name, t) in outputs { print("\(name) \(t.shape)") }
    print("wrote \(output) (\(String(format: "%.3f", seconds)) s)")
  }
}
