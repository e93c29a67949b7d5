import Checkpoint
import Evaluation
import FMBoost
import Foundation
import StableDiffusion
import Torch

/// One network on tensors from a safetensors file, for people porting checkpoints to compare
/// against PyTorch (`fmboost forward`). Inputs are checked for their names and shapes.
public struct NetworkForward {
  public enum Network: String, CaseIterable, Sendable {
    case unet, ode, vaeEncode = "vae-encode", vaeDecode = "vae-decode", taesdEncode = "taesd-encode", taesdDecode = "taesd-decode"
    case inception, sdUNet = "sd-unet", clipText = "clip-text", sdSample = "sd-sample"
  }

  public let network: Network
  /// The network's weights (safetensors, .ckpt or .pth).
  public let weights: String
  /// A JSON file with the architecture's constructor arguments (else the weights' metadata).
  public var architecture: String?
  /// ode: the integration.
  public var sampling = FlowSampling(method: .euler, steps: 40)
  /// sd-sample: the sampler and guidance; sd-unet and sd-sample: LoRAs (`FILE[:SCALE]`) merged first.
  public var scheduler = SamplerKind.ddim, cfgScale = 7.5, spacing = NoiseSchedule.Spacing.leading, karras = false
  public var loras: [String] = []
  /// Where the network runs; the outputs come back on the CPU.
  public var device: Device = .cpu

  public init(_ network: Network, weights: String) {
    self.network = network
    self.weights = weights
  }

  /// The outputs by name, and the network evaluations of an ODE.
  public func run(inputs path: String) throws -> (outputs: [(String, Tensor)], evaluations: Int?) {
    let file = try SafeTensorsFile(path: path)
    let inputs = ForwardInputs(file: file, path: path, network: network.rawValue, device: device)
    try Devices.check(device)
    let result = try withNoGrad { () throws -> (outputs: [(String, Tensor)], evaluations: Int?) in
      switch network {
      case .unet, .ode: return try flow(inputs)
      case .vaeEncode, .vaeDecode:
        let vae = try AutoencoderLoader.load([weights], config: try architecture(AutoencoderKLConfig.self), device: device)
        guard let kl = vae as? AutoencoderKL else { throw ForwardError("\(weights): not an SD autoencoder (use taesd-encode/-decode)") }
        if network == .vaeDecode { return ([("decoded", try kl.decode(inputs("mean", rank: 4, channels: kl.latentChannels)))], nil) }
        let posterior = try kl.posterior(inputs("image", rank: 4, channels: 3))
        return ([("mean", posterior.mean), ("logvar", posterior.logvar)], nil)
      case .taesdEncode:
        return ([("latent", try AutoencoderLoader.load([weights], device: device).encode(inputs("image", rank: 4, channels: 3)))], nil)
      case .taesdDecode:
        let taesd = try AutoencoderLoader.load([weights], device: device)
        return ([("decoded", try taesd.decode(inputs("latent", rank: 4, channels: taesd.latentChannels)))], nil)
      case .inception:
        return ([("features", try FIDInception(path: weights, device: device).features(inputs("image", rank: 4, channels: 3)))], nil)
      case .sdUNet, .clipText, .sdSample:
        return (try stableDiffusion(inputs), nil)
      }
    }
    return (try result.outputs.map { ($0.0, try $0.1.toHost()) }, result.evaluations)
  }

  func architecture<C: Decodable>(_ type: C.Type) throws -> C? {
    if let architecture { return try WeightFile.config(type, jsonFile: architecture) }
    return try WeightFile.config(type, in: weights)
  }

  /// unet: x, t, context → v; ode: x0, context → x1.
  func flow(_ inputs: ForwardInputs) throws -> (outputs: [(String, Tensor)], evaluations: Int?) {
    guard let c = try architecture(EfficientUNetConfig.self) else {
      throw ForwardError("\(weights): no architecture config in the metadata; give the network's config file")
    }
    let flow = try FlowModelLoader.load(weights, config: c, device: device).flow
    let x = try inputs(network == .unet ? "x" : "x0", rank: 4, channels: c.outChannels)
    let context = inputs.has("context") ? try inputs("context", rank: 4, channels: c.inChannels - c.outChannels) : nil
    if let context, context.shape != x.shape {
      throw ForwardError("\(inputs.path): context \(context.shape) and \(network == .unet ? "x" : "x0") \(x.shape) differ in shape")
    }
    if network == .unet {
      let t = try inputs("t", rank: 1)
      guard t.size(0) == x.size(0) else { throw ForwardError("\(inputs.path): t has \(t.size(0)) values for a batch of \(x.size(0))") }
      return ([("v", try flow.velocity(x, t: t, context: context))], nil)
    }
    let solution = try flow.sample(from: x, context: context, sampling)
    return ([("x1", solution.final)], solution.evaluations)
  }
}

/// The input tensors of `NetworkForward`, each checked for its rank (and channels at dimension 1).
struct ForwardInputs {
  let file: SafeTensorsFile
  let path: String
  let network: String
  let device: Device

  func has(_ name: String) -> Bool { file.entries[name] != nil }

  func callAsFunction(_ name: String, rank: Int, channels: Int? = nil) throws -> Tensor {
    guard let entry = file.entries[name] else { throw ForwardError("\(path): no tensor named '\(name)' (has: \(file.keys.joined(separator: ", ")))") }
    guard entry.shape.count == rank, channels.map({ entry.shape[1] == $0 }) ?? true else {
      let expected = rank == 4 ? "(N, \(channels.map(String.init) ?? "C"), H, W)" : "\(rank) dimensions"
      throw ForwardError("\(path): '\(name)' has shape \(entry.shape); \(network) needs \(expected)")
    }
    return try file.tensor(name).to(.float32).placed(on: device)
  }
}

/// Inputs or weights that do not fit the network.
public struct ForwardError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
