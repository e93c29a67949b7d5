import Foundation
import Imaging
import Torch

/// Low-resolution image (or latent) in, higher-resolution image out: PSU → noise augmentation →
/// ODE with the CFM network → decode. Runs without autograd.
public final class Upsampler {
  public let flow: CouplingFlowMatching
  public let pixelSpace: PixelSpace
  public let recipe: UpsamplingRecipe
  let diffusion = ForwardDiffusion()

  /// Reports progress: ODE steps done of the total for the current stage.
  public var onStep: ((_ done: Int, _ total: Int) throws -> Void)?

  public init(flow: CouplingFlowMatching, autoencoder: any LatentAutoencoder, recipe: UpsamplingRecipe) throws {
    guard flow.net.config.outChannels == autoencoder.latentChannels else {
      throw TorchError.invalidArgument(
        "the flow network outputs \(flow.net.config.outChannels) channels but the autoencoder's latents have \(autoencoder.latentChannels)")
    }
    let netTakesContext = flow.net.config.takesContext
    if let takesContext = recipe.takesContext, takesContext != netTakesContext {
      throw RecipeError(.takesContext, "is \(takesContext ? "" : "not ")given to the network, whose \(flow.net.config.inChannels) input channels \(netTakesContext ? "include" : "exclude") it")
    }
    try recipe.validate()
    self.flow = flow
    pixelSpace = PixelSpace(autoencoder: autoencoder, latentScale: recipe.latentScale)
    self.recipe = recipe
  }

  /// Where the flow network's weights are, and so where images are upsampled.
  public var device: Device { flow.net.device }

  /// Image sides must be multiples of this for an output `factor` times larger.
  public func inputMultiple(factor: Int) -> Int {
    let f = pixelSpace.autoencoder.downsamplingFactor
    let latentMultiple = flow.net.config.requiredDivisor * f
    // The output side factor·H must be a multiple of latentMultiple; a latent mode encodes H itself.
    return lcm(latentMultiple / gcd(latentMultiple, factor), recipe.mode == .psu ? 1 : f)
  }

  public struct Output {
    /// The high-resolution image in the autoencoder's range.
    public let image: Tensor
    /// The high-resolution latent (scaled); nil when the image was upsampled in halo tiles.
    public let latent: Tensor?
    public let evaluations: Int
  }

  /// Upsamples a batch of images (B, 3, H, W) in the autoencoder's range by `factor` (by default
  /// the model's scale).
  public func upsample(image: Tensor, factor: Int? = nil, generator: Generator? = nil) throws -> Output {
    let factor = factor ?? recipe.scale
    let f = pixelSpace.autoencoder.downsamplingFactor
    let (h, w) = (image.size(2) * factor, image.size(3) * factor)
    let multiple = inputMultiple(factor: factor)
    guard image.size(2) % multiple == 0, image.size(3) % multiple == 0 else {
      throw TorchError.invalidArgument("image sides must be multiples of \(multiple) for ×\(factor) (got \(image.size(2))×\(image.size(3)))")
    }
    return try withNoGrad {
      let context: Tensor
      if recipe.mode == .psu {
        let upsampled = try image.interpolate(size: (h, w), mode: .bilinear)
        if let tile = recipe.tile, !isLocal {
          context = try Tiling(tile: tile, overlap: max(2, tile / 4)).applyDownscaling(upsampled, factor: f, pixelSpace.encode)
        } else {
          context = try pixelSpace.encode(upsampled)
        }
      } else {
        let lowLatent = try pixelSpace.encode(image)
        context = try upsampleLatent(lowLatent, to: (h / f, w / f), mode: recipe.mode, image: image, pixelSpace: pixelSpace, generator: generator)
      }
      return try flowAndDecode(context: context, generator: generator)
    }
  }

  /// Upsamples an image of any size (B, 3, H, W), H, W ≥ 2, to exactly factor·H × factor·W: it is
  /// padded at the bottom and right to the size multiple the model needs (mirrored, or its edge
  /// repeated where the image is smaller than the padding), upsampled, and cropped back. The
  /// output's `latent` keeps the padded size.
  public func upsampleAnySize(image: Tensor, factor: Int? = nil, generator: Generator? = nil) throws -> Output {
    let factor = factor ?? recipe.scale
    let (h, w) = (image.size(2), image.size(3))
    guard h >= 2, w >= 2 else { throw TorchError.invalidArgument("images must be at least 2×2 pixels, got \(w)×\(h)") }
    let m = inputMultiple(factor: factor)
    let (padH, padW) = ((m - h % m) % m, (m - w % m) % m)
    let mode: Tensor.PadMode = padH < h && padW < w ? .reflect : .replicate
    let padded = padH > 0 || padW > 0 ? try image.pad([0, padW, 0, padH], mode: mode) : image
    let result = try upsampleWholeOrInHaloTiles(padded, factor: factor, keep: (h, w), generator: generator)
    guard result.image.size(2) != h * factor || result.image.size(3) != w * factor else { return result }
    let cropped = try result.image.narrow(dim: 2, start: 0, length: h * factor).narrow(dim: 3, start: 0, length: w * factor).contiguous()
    return Output(image: cropped, latent: result.latent, evaluations: result.evaluations)
  }

  /// Upsamples a scaled latent (for example an SD generation's) to `size` latent positions.
  public func upsample(latent: Tensor, to size: (Int, Int), generator: Generator? = nil) throws -> Output {
    try withNoGrad {
      let context = try upsampleLatent(latent, to: size, mode: recipe.mode, pixelSpace: pixelSpace, generator: generator)
      return try flowAndDecode(context: context, generator: generator)
    }
  }

  /// Several stages of the model's scale in a row (512 → 1024 → 2048 px for two stages of a ×2
  /// model), any input size; `onStage(s)` is called before stage s. The output's `evaluations`
  /// count every stage's.
  public func cascade(image: Tensor, stages: Int, generator: Generator? = nil, onStage: ((Int) -> Void)? = nil) throws -> Output {
    var current = try image.placed(on: device)
    var last: Output?
    var evaluations = 0
    for stage in 0..<max(1, stages) {
      onStage?(stage)
      last = try upsampleAnySize(image: current, generator: generator)
      current = last!.image
      evaluations += last!.evaluations
    }
    return Output(image: current, latent: last!.latent, evaluations: evaluations)
  }

  /// Bicubic upsampling of `input` to the result's size (left) next to the result (right), both
  /// (1, 3, H, W) in `range` (default: the first stage's pixel range).
  public func sideBySide(input: Tensor, result: Tensor, range: PixelRange? = nil) throws -> Tensor {
    let range = range ?? pixelSpace.autoencoder.pixelRange
    let bicubic = try input.interpolate(size: (result.size(2), result.size(3)), mode: .bicubic)
      .clamp(min: range == .unit ? 0 : -1, max: 1)
    return try Tensor.cat([bicubic, result], dim: 3)
  }

  /// x0 from the context (noise-augmented), integrate the flow, decode.
  func flowAndDecode(context: Tensor, generator: Generator?) throws -> Output {
    var x0 = recipe.startFromNoise ? try context.randnLike(generator: generator) : context
    if recipe.noisingStep > 0 { x0 = try diffusion.qSample(x0, step: recipe.noisingStep, generator: generator) }
    // Halo tiles (`haloTiling`) are cut before; blended tiles where the result is not local.
    let tiling = try recipe.tile.flatMap { isLocal ? nil : try Tiling(tile: $0, overlap: max(2, $0 / 4)) }
    let solution = try flow.sample(from: x0, context: flow.net.config.takesContext ? context : nil, recipe.sampling, tiling: tiling, onStep: onStep)
    let latent = solution.final
    let image: Tensor
    if let tiling {
      image = try tiling.apply(latent, scale: pixelSpace.autoencoder.downsamplingFactor, pixelSpace.decode)
    } else {
      image = try pixelSpace.decode(latent)
    }
    return Output(image: image, latent: latent, evaluations: solution.evaluations)
  }
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
