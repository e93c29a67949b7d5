// fmboost-bench: micro-benchmarks of the Swift layer (never part of `make test`).
// Usage: fmboost-bench conv2d [--iterations N] [--threads N]
//        fmboost-bench vae-decode --size PX [--tile LATENTS]
//        fmboost-bench tiling-error --size PX [--tile LATENTS]
//        fmboost-bench upsample-memory --size PX [--tile LATENTS]
//        fmboost-bench item NAME [--iterations REPS] [--warmup N] [--threads N]   (JSON; see Items.swift)
//        fmboost-bench random-sd15 PATH   (an SD1.5 single file of random weights, fp16, for timing `generate`;
//                                          random-sd15-fp32: fp32, as v1-5-pruned-emaonly.safetensors)
import Checkpoint
import FMBoost
import Foundation
import NN
import StableDiffusion
import Torch

struct Options {
  var item = "conv2d"
  var iterations = 20
  var threads: Int?
  var size = 512
  var tile: Int?
  var name = ""
  var warmup = 1

  init(_ arguments: [String]) throws {
    var rest = arguments[...]
    if let first = rest.first, !first.hasPrefix("-") { item = first; rest = rest.dropFirst() }
    if ["item", "random-sd15", "random-sd15-fp32"].contains(item), let first = rest.first, !first.hasPrefix("-") { name = first; rest = rest.dropFirst() }
    while let flag = rest.popFirst() {
      guard let value = rest.popFirst(), let n = Int(value), n > 0 || (flag == "--warmup" && n == 0) else {
        throw TorchError.invalidArgument("\(flag) needs a positive integer")
      }
      switch flag {
      case "--iterations": iterations = n
      case "--threads": threads = n
      case "--size": size = n
      case "--tile": tile = n
      case "--warmup": warmup = n
      default: throw TorchError.invalidArgument("unknown option \(flag)")
      }
    }
  }
}

func median(_ values: [Double]) -> Double {
  let s = values.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// conv2d forward, 256 -> 256 channels, 3x3, padding 1, 64x64, batch 1.
func benchConv2d(iterations: Int) throws {
  let g = try Generator(seed: 0)
  let x = try Tensor.randn([1, 256, 64, 64], generator: g)
  let w = try Tensor.randn([256, 256, 3, 3], generator: g) * 0.02
  let b = try Tensor.randn([256], generator: g)
  let flop = 2.0 * 256 * 256 * 9 * 64 * 64
  try withNoGrad {
    for _ in 0..<3 { _ = try x.conv2d(w, bias: b, padding: (1, 1)) }
    var times: [Double] = []
    for _ in 0..<iterations {
      times.append(try seconds { _ = try x.conv2d(w, bias: b, padding: (1, 1)) })
    }
    let m = median(times)
    print(String(format: "swift    conv2d 256->256 3x3 64x64 b1: median %.2f ms, %.1f GFLOP/s (%.2f GFLOP, %d threads)",
                 m * 1e3, flop / m / 1e9, flop / 1e9, Runtime.threads))
  }
}

/// Peak resident memory of this process so far (getrusage).
func resourceUsage() -> rusage {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return usage
}

/// The process's system (kernel) CPU time so far, in seconds.
func systemSeconds() -> Double {
  let time = resourceUsage().ru_stime
  return Double(time.tv_sec) + Double(time.tv_usec) / 1e6
}

func peakRSSMiB() -> Double { Double(resourceUsage().ru_maxrss) / 1024 }

/// SD autoencoder decode (random weights of the real shapes) of a size×size image, untiled or
/// tiled; prints the time and the process's peak resident memory.
func benchVAEDecode(size: Int, tile: Int?) throws {
  let vae = try AutoencoderKL(.stableDiffusion, generator: Generator(seed: 0))
  vae.eval()
  let latent = try Tensor.randn([1, 4, size / 8, size / 8], generator: Generator(seed: 1))
  let before = peakRSSMiB()
  let image = try withNoGrad {
    try seconds {
      _ = try tile.map { try Tiling(tile: $0, overlap: $0 / 4).apply(latent, scale: 8, vae.decode) } ?? vae.decode(latent)
    }
  }
  print(String(format: "swift    sd-vae decode %d px%@: %.1f s, peak RSS %.0f MiB (%.0f MiB before decoding)",
               size, tile.map { " tiled \($0)" } ?? "", image, peakRSSMiB(), before))
}

/// max |tiled − untiled| of SD-VAE (random weights) and TAEF2 (real weights) decoding at size px.
func benchTilingError(size: Int, tile: Int) throws {
  let latent = try Tensor.randn([1, 4, size / 8, size / 8], generator: Generator(seed: 1))
  let vae = try AutoencoderKL(.stableDiffusion, generator: Generator(seed: 0))
  vae.eval()
  try withNoGrad {
    let whole = try vae.decode(latent)
    let tiled = try Tiling(tile: tile, overlap: tile / 4).apply(latent, scale: 8, vae.decode)
    print(String(format: "sd-vae (random weights) %d px, tiles of %d latents: max |tiled - untiled| = %.4f (output range %.2f..%.2f)",
                 size, tile, try tiled.maxAbsDifference(whole), try whole.min().item(), try whole.max().item()))
  }
  let shared = ProcessInfo.processInfo.environment["FMBOOST_SHARED"] ?? "../shared"
  let taef2 = try AutoencoderLoader.load([shared + "/weights/taef2_decoder.pth"])
  let taeLatent = try Tensor.randn([1, 32, size / 8, size / 8], generator: Generator(seed: 2))
  try withNoGrad {
    let whole = try taef2.decode(taeLatent)
    let tiled = try Tiling(tile: tile, overlap: tile / 4).apply(taeLatent, scale: 8, taef2.decode)
    print(String(format: "taef2 (real weights) %d px, tiles of %d latents: max |tiled - untiled| = %.5f (output range %.2f..%.2f)",
                 size, tile, try tiled.maxAbsDifference(whole), try whole.min().item(), try whole.max().item()))
  }
}

/// The cpu-tiny network's shape (32 channels, levels ×1 ×2 ×2, attention at the lowest level)
/// for `latentChannels` latent channels plus as many of context.
func smallUNet(latentChannels: Int) -> EfficientUNetConfig {
  unet(in: 2 * latentChannels, model: 32, out: latentChannels, resBlocks: 1, attention: [4], mult: [1, 2, 2], dimHead: 16, heads: 2)
}

/// A tiled 1024 → 2048 px upsample with the real TAEF2 autoencoder and a small random CFM network
/// (the golden toy autoencoder downsamples only ×2, which makes 2048 px attention quadratic in
/// nearly every pixel); prints time and peak RSS.
func benchUpsampleMemory(size: Int, tile: Int?) throws {
  let shared = ProcessInfo.processInfo.environment["FMBOOST_SHARED"] ?? "../shared"
  let taef2 = try AutoencoderLoader.load([shared + "/weights/taef2_encoder.pth", shared + "/weights/taef2_decoder.pth"])
  let flow = try CouplingFlowMatching(net: EfficientUNet(smallUNet(latentChannels: 32), generator: Generator(seed: 0)))
  var recipe = UpsamplingRecipe(latentScale: 1, steps: 2)
  recipe.tile = tile
  let upsampler = try Upsampler(flow: flow, autoencoder: taef2, recipe: recipe)
  let image = try Tensor.rand([1, 3, size, size], generator: Generator(seed: 1))
  let before = peakRSSMiB()
  let t = try seconds { _ = try upsampler.upsample(image: image, factor: 2, generator: Generator(seed: 2)) }
  print(String(format: "swift    upsample %d -> %d px (taef2, small random CFM, 2 euler steps)%@: %.1f s, peak RSS %.0f MiB (%.0f MiB before)",
               size, 2 * size, tile.map { ", tiles of \($0) latents" } ?? ", untiled", t, peakRSSMiB(), before))
}

/// An SD1.5 single file (LDM prefixes, fp16 or fp32) of PyTorch-default random weights of the real sizes:
/// the UNet, the CLIP ViT-L/14 text encoder and the autoencoder (timing and memory of `generate`
/// where no real weights are at hand).
func writeRandomSD15(_ path: String, dtype: DType) throws {
  var tensors: [(String, Tensor)] = []
  func add(_ prefix: String, _ make: (ModuleScope) throws -> Module) throws {
    let source = ParameterSource.fresh(generator: try Generator(seed: UInt64(tensors.count)))
    let module = try make(source.root)
    tensors += try module.stateDict().map { (prefix + $0.0, try $0.1.to(dtype)) }
  }
  try withNoGrad {
    try add("model.diffusion_model.") { try SDUNet(.sd15, $0) }
    try add("cond_stage_model.transformer.text_model.") { try CLIPTextModel(.vitL14, $0) }
    try add("first_stage_model.") { try AutoencoderKL(.stableDiffusion, $0) }
  }
  try SafeTensors.write(tensors, to: URL(fileURLWithPath: path))
  print("wrote \(path): \(tensors.count) tensors, \(tensors.reduce(0) { $0 + $1.1.elementCount }) parameters (\(dtype))")
}

/// Forward and backward of the cpu-tiny network (batch 8, 64×64), timed separately.
func benchTinyStep(iterations: Int) throws {
  let net = try EfficientUNet(smallUNet(latentChannels: 3), generator: Generator(seed: 0))
  let x = try Tensor.randn([8, 3, 64, 64]), c = try Tensor.randn([8, 3, 64, 64]), t = try Tensor.rand([8])
  var forward: [Double] = [], backward: [Double] = []
  for _ in 0..<iterations {
    var loss: Tensor?
    forward.append(try seconds { loss = try net(x, t: t, context: c).square().mean() })
    backward.append(try seconds { try loss!.backward() })
    try net.zeroGrad()
  }
  print(String(format: "swift    cpu-tiny net batch 8 64x64: forward median %.1f ms, backward median %.1f ms", median(forward) * 1e3, median(backward) * 1e3))
}

do {
  let options = try Options(Array(CommandLine.arguments.dropFirst()))
  if let threads = options.threads { Runtime.threads = threads }
  switch options.item {
  case "conv2d": try benchConv2d(iterations: options.iterations)
  case "vae-decode": try benchVAEDecode(size: options.size, tile: options.tile)
  case "tiling-error": try benchTilingError(size: options.size, tile: options.tile ?? 32)
  case "upsample-memory": try benchUpsampleMemory(size: options.size, tile: options.tile)
  case "tiny-step": try benchTinyStep(iterations: options.iterations)
  case "item": try benchItemJSON(options.name, reps: options.iterations, warmup: options.warmup)
  case "random-sd15": try writeRandomSD15(options.name, dtype: .float16)
  case "random-sd15-fp32": try writeRandomSD15(options.name, dtype: .float32)
  default: throw TorchError.invalidArgument("unknown benchmark '\(options.item)' (known: conv2d, vae-decode, tiling-error, upsample-memory)")
  }
} catch {
  FileHandle.standardError.write(Data("fmboost-bench: \(error)\n".utf8))
  exit(1)
}
