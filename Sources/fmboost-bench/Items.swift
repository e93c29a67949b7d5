// The Swift side of `make bench` (benchmarks/run.sh): one item, timed, printed as one JSON line
// in the format of benchmarks/items.py (the PyTorch side).
import Checkpoint
import FileSupport
import FMBoost
import Foundation
import NN
import StableDiffusion
import Torch

/// An EfficientUNet configuration from the constructor arguments the configs name.
func unet(in inChannels: Int, model: Int, out: Int, resBlocks: Int, attention: [Int], mult: [Int], dimHead: Int, heads: Int)
  -> EfficientUNetConfig
{
  var c = EfficientUNetConfig()
  (c.inChannels, c.modelChannels, c.outChannels, c.numResBlocks) = (inChannels, model, out, resBlocks)
  (c.attentionResolutions, c.channelMult, c.dimHead, c.numHeads) = (attention, mult, dimHead, heads)
  c.useLinearAttn = false
  c.useScaleShiftNorm = true
  return c
}

/// The paper's EfficientUNet (configs/flow400_64-128/unet-base_psu.yaml; 305.8M parameters).
func paperUNet() -> EfficientUNetConfig {
  unet(in: 8, model: 128, out: 4, resBlocks: 3, attention: [8, 16], mult: [1, 2, 4, 8], dimHead: 64, heads: 4)
}

/// configs/default-2x.yaml's network (no GroupNorm, no middle attention).
func defaultTwoXUNet() -> EfficientUNetConfig {
  var c = unet(in: 24, model: 48, out: 12, resBlocks: 1, attention: [], mult: [1, 1, 1], dimHead: 32, heads: 2)
  (c.useGroupNorm, c.middleAttention) = (false, false)
  return c
}

/// A closure that runs the item once, and whether it needs autograd.
func benchItem(_ item: String) throws -> (run: () throws -> Void, grad: Bool) {
  let g = try Generator(seed: 1)
  let parts = item.split(separator: "-").map(String.init)
  switch (parts.first ?? "", parts.count) {
  case ("unet", 2):
    let size = Int(parts[1]) ?? 64
    let net = try EfficientUNet(paperUNet(), generator: g)
    net.eval()
    let x = try Tensor.randn([1, 4, size, size], generator: g), c = try Tensor.randn([1, 4, size, size], generator: g)
    let t = try Tensor([Float(0.5)])
    return ({ _ = try net(x, t: t, context: c) }, false)
  case ("vae", 3):
    let size = Int(parts[2]) ?? 512
    let vae = try AutoencoderKL(.stableDiffusion, generator: g)
    vae.eval()
    if parts[1] == "encode" {
      let image = try Tensor.rand([1, 3, size, size], generator: g) * 2 - 1
      return ({ _ = try vae.encode(image) }, false)
    }
    let z = try Tensor.randn([1, 4, size / 8, size / 8], generator: g)
    return ({ _ = try vae.decode(z) }, false)
  case ("taef2", 3):
    let size = Int(parts[2]) ?? 1024
    if parts[1] == "encode" {
      let encoder = try TAESDEncoder(.taef2, ParameterSource.fresh(generator: g).root)
      encoder.eval()
      let image = try Tensor.rand([1, 3, size, size], generator: g)
      return ({ _ = try encoder(image) }, false)
    }
    let decoder = try TAESDDecoder(.taef2, ParameterSource.fresh(generator: g).root)
    decoder.eval()
    let z = try Tensor.randn([1, 32, size / 8, size / 8], generator: g)
    return ({ _ = try decoder(z) }, false)
  case ("train", _):
    let name = parts.dropFirst().joined(separator: "-")
    let (config, batch, channels, size, lr): (EfficientUNetConfig, Int, Int, Int, Double)
    switch name {
    case "cpu-tiny": (config, batch, channels, size, lr) = (smallUNet(latentChannels: 3), 4, 3, 64, 2e-4)
    case "default-2x": (config, batch, channels, size, lr) = (defaultTwoXUNet(), 8, 12, 64, 2.5e-4)
    default: throw TorchError.invalidArgument("unknown training item \(item)")
    }
    let flow = try CouplingFlowMatching(net: EfficientUNet(config, generator: g))
    let optimizer = Adam(flow.namedParameters(), .init(lr: lr))
    let x1 = try Tensor.randn([batch, channels, size, size], generator: g)
    let x0 = try Tensor.randn([batch, channels, size, size], generator: g)
    let c = try Tensor.randn([batch, channels, size, size], generator: g)
    return ({
      try flow.trainingLoss(x1: x1, x0: x0, context: c, generator: g).loss.backward()
      try optimizer.step()
      try optimizer.zeroGrad()
    }, true)
  case ("upsample", 2):
    let size = Int(parts[1]) ?? 512
    let flow = try CouplingFlowMatching(net: EfficientUNet(paperUNet(), generator: g))
    let vae = try AutoencoderKL(.stableDiffusion, generator: g)
    vae.eval()
    flow.net.eval()
    let upsampler = try Upsampler(flow: flow, autoencoder: vae, recipe: UpsamplingRecipe(steps: 10))
    let image = try Tensor.rand([1, 3, size, size], generator: g) * 2 - 1
    return ({ _ = try upsampler.upsample(image: image, factor: 2, generator: g) }, false)
  case ("default2x", 2):
    // The shipped default model (models/default-2x.safetensors) with its own settings: 512 → 1024 px.
    let size = Int(parts[1]) ?? 512
    guard let path = ProjectFiles.aboveExecutable("models/default-2x.safetensors") else {
      throw TorchError.invalidArgument("models/default-2x.safetensors not found above the executable")
    }
    let loaded = try FlowModelLoader.load(path)
    guard let firstStage = try loaded.recipe.firstStage?.builtIn() else {
      throw TorchError.invalidArgument("\(path) records no built-in first stage")
    }
    loaded.flow.net.eval()
    let upsampler = try Upsampler(flow: loaded.flow, autoencoder: firstStage, recipe: loaded.recipe)
    let image = try Tensor.rand([1, 3, size, size], generator: g) * 2 - 1
    return ({ _ = try upsampler.upsample(image: image, factor: 2, generator: g) }, false)
  case ("sd", 3) where parts[1] == "unet":
    // One guided SD1.5 UNet evaluation (a batch of two) at size px: random weights of the real shapes.
    let size = Int(parts[2]) ?? 512
    let unet = try SDUNet(.sd15, ParameterSource.fresh(generator: g).root)
    unet.eval()
    let x = try Tensor.randn([2, 4, size / 8, size / 8], generator: g), context = try Tensor.randn([2, 77, 768], generator: g)
    let t = try Tensor([Float(500)])
    return ({ _ = try unet(x, t: t, context: context) }, false)
  case ("attention", 2), ("attention", 3):
    // attention-N: SD1.5's self-attention at 512 px for N = 4096: a guided batch of two, 8 heads of
    // 40. attention-N-D: one head of D, the SD autoencoder's middle block (N = (px / 8)², D = 512).
    let tokens = Int(parts[1]) ?? 4096
    let shape = parts.count == 3 ? [1, 1, tokens, Int(parts[2]) ?? 512] : [2, 8, tokens, 40]
    let q = try Tensor.randn(shape, generator: g), k = try Tensor.randn(shape, generator: g)
    let v = try Tensor.randn(shape, generator: g)
    return ({ _ = try Tensor.scaledDotProductAttention(query: q, key: k, value: v) }, false)
  default:
    throw TorchError.invalidArgument("unknown item \(item)")
  }
}

func benchItemJSON(_ item: String, reps: Int, warmup: Int) throws {
  let (run, grad) = try benchItem(item)
  var system: [Double] = []
  let body = {
    for _ in 0..<warmup { try run() }
    return try (0..<reps).map { _ in
      let startSystem = systemSeconds()
      defer { system.append(systemSeconds() - startSystem) }
      return try seconds(run)
    }
  }
  let times = grad ? try body() : try withNoGrad(body)
  let a = Runtime.allocatorStatistics, mib = { (bytes: Int) in Double(bytes) / 1_048_576 }
  let allocator = ["maps": a.maps, "hits": a.hits, "high_water_mib": mib(a.highWaterBytes), "mapped_total_mib": mib(a.mappedTotalBytes)] as [String: Any]
  let line: [String: Any] = ["side": "swift", "item": item, "times": times, "system": system, "peak_rss_mib": peakRSSMiB(), "threads": Runtime.threads, "allocator": allocator,
                             "version": (try? Runtime.buildInfo().version) ?? "?"]
  print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
}
