import Checkpoint
import FMBoost
import Imaging
import Torch

/// The upsampler as a product: a CFM model file (the shipped default model unless another is
/// named), its first stage (built in, or the autoencoder files given), its recipe with the
/// caller's overrides, validated once. Each call makes its own `Upsampler`, so calls share no
/// progress state; the networks are only read.
public final class UpsamplingPipeline: @unchecked Sendable {
  public struct Configuration: Sendable {
    /// The CFM model: a Lightning .ckpt of the original or safetensors; nil: the default model
    /// (`DefaultModel`) for `scale`.
    public var model: String?
    /// How many times larger the caller wants the sides; picks the default model made for it.
    public var scale = 2
    /// SD's autoencoder file, or a TAESD-family encoder and decoder; nil: the model's built-in one.
    public var autoencoder: [String]?
    /// Which weights of a Lightning checkpoint.
    public var weights: StateDictSelection.Weights = .ema
    /// The network's constructor arguments, for files that hold none.
    public var networkConfig: EfficientUNetConfig?
    public var overrides = UpsamplingRecipe.Overrides()
    /// Run the networks under autocast in this type (bf16, fp16 on CUDA; nil: float32).
    public var precision: DType?
    /// Where the networks are loaded and every tensor is made; images cross to the CPU only to be
    /// read and written.
    public var device: Device = .cpu

    public init(model: String? = nil, autoencoder: [String]? = nil, scale: Int = 2) {
      (self.model, self.autoencoder, self.scale) = (model, autoencoder, scale)
    }
  }

  public let modelPath: String
  public let flow: CouplingFlowMatching
  public let autoencoder: any LatentAutoencoder
  public let recipe: UpsamplingRecipe
  /// Which weights were taken ("ema", "online" or "as stored").
  public let weights: String
  public let precision: DType?
  public let device: Device

  /// Loads the model; `fallbackAutoencoder` is the first stage when no file is named and the model
  /// has no built-in one (text to image passes SD's, already loaded).
  public convenience init(_ configuration: Configuration = Configuration(), fallbackAutoencoder: (any LatentAutoencoder)? = nil) throws {
    try Devices.check(configuration.device)
    let modelPath = try configuration.model ?? DefaultModel.path(scale: configuration.scale)
    let device = configuration.device
    let loaded = try FlowModelLoader.load(modelPath, weights: configuration.weights, config: configuration.networkConfig, device: device)
    let autoencoder: any LatentAutoencoder
    if let files = configuration.autoencoder {
      autoencoder = try AutoencoderLoader.load(files, device: device)
    } else if let builtIn = try loaded.recipe.firstStage?.builtIn() ?? fallbackAutoencoder {
      autoencoder = builtIn
    } else {
      throw PipelineError.needsAutoencoder(model: modelPath, firstStage: loaded.recipe.firstStage?.description)
    }
    try self.init(flow: loaded.flow, autoencoder: autoencoder,
                  recipe: try loaded.recipe.applying(configuration.overrides, factor: autoencoder.downsamplingFactor),
                  precision: configuration.precision, modelPath: modelPath, weights: loaded.weights)
  }

  /// A pipeline over networks already built, on the device of `flow`'s weights (the autoencoder's
  /// must be there too), with `recipe` as it is.
  public init(flow: CouplingFlowMatching, autoencoder: any LatentAutoencoder, recipe: UpsamplingRecipe, precision: DType? = nil,
              modelPath: String = "(in memory)", weights: String = "as built") throws {
    device = flow.net.device
    try PipelineError.requireAutocast(precision, on: device)
    (self.flow, self.autoencoder, self.recipe, self.precision, self.modelPath, self.weights) = (flow, autoencoder, recipe, precision, modelPath, weights)
    _ = try makeUpsampler()  // the network and the first stage fit each other and the recipe
  }

  /// An upsampler of this model for one call, with `recipe` (by default the pipeline's).
  public func makeUpsampler(recipe: UpsamplingRecipe? = nil) throws -> Upsampler {
    try Upsampler(flow: flow, autoencoder: autoencoder, recipe: recipe ?? self.recipe)
  }

  public struct Result {
    public let picture: Picture
    /// Network evaluations over every stage (of one tile where the image ran in halo tiles).
    public let evaluations: Int
    /// Halo tiles over every stage (0: whole).
    public let haloTiles: Int
  }

  /// How many times larger one stage makes an image's sides (the model's training ratio).
  public var scale: Int { recipe.scale }

  /// How many times larger `stages` stages make an image's sides.
  public func scale(stages: Int) -> Int { recipe.scale(stages: stages) }

  /// The fewest stages, 1 to `limit`, that make sides at least `factor` times larger.
  public func stages(reaching factor: Double, limit: Int = 4) -> Int {
    (1...limit).first { Double(scale(stages: $0)) >= factor } ?? limit
  }

  /// The stages (at most 4) that make sides exactly `total` times larger.
  public func stages(forScale total: Int) throws -> Int {
    let stages = stages(reaching: Double(total))
    guard scale(stages: stages) == total else { throw PipelineError.scaleUnreachable(total, modelScale: scale) }
    return stages
  }

  /// Upsamples a picture as displayed by `stages` stages (colour through the flow, alpha
  /// bicubic, bit depth, grey-ness and metadata kept). The noise augmentation draws from `seed`.
  public func upsample(_ picture: Picture, stages: Int = 1, seed: UInt64 = 2024, progress: PipelineProgressHandler? = nil,
                       item: (index: Int, count: Int) = (0, 1)) throws -> Result {
    guard picture.width >= 2, picture.height >= 2 else {
      throw PipelineError.imageTooSmall(file: "the image", width: picture.width, height: picture.height)
    }
    let (upsampler, onStage) = try reportingUpsampler(PipelineProgress(phase: "upsample", item: item.index, items: item.count), stages: stages, to: progress)
    let result = try inPrecision {
      try upsampler.upsample(picture: picture, stages: stages, generator: Generator(seed: seed), onStage: onStage)
    }
    return Result(picture: result.picture, evaluations: result.evaluations,
                  haloTiles: upsampler.haloTileCount(height: picture.height, width: picture.width, stages: stages))
  }

  /// Upsamples a batch (B, 3, H, W) in [−1, 1] by `stages` stages, in [−1, 1] (the noise from
  /// `seed`), on the pipeline's device.
  public func upsample(symmetric image: Tensor, stages: Int = 1, seed: UInt64 = 2024, progress: PipelineProgressHandler? = nil,
                       item: (index: Int, count: Int) = (0, 1)) throws -> Tensor {
    let (upsampler, onStage) = try reportingUpsampler(PipelineProgress(phase: "boost", item: item.index, items: item.count), stages: stages, to: progress)
    let unitRange = autoencoder.pixelRange == .unit
    let clamped = try image.placed(on: device).clamp(min: -1, max: 1)
    let input = unitRange ? try (clamped + 1) / 2 : clamped
    let result = try inPrecision {
      try withNoGrad { try upsampler.cascade(image: input, stages: stages, generator: Generator(seed: seed), onStage: onStage).image }
    }.to(.float32)
    return unitRange ? try result * 2 - 1 : result
  }

  /// An upsampler for one call whose steps report `start` (at the stage `onStage` was last told) to `handler`.
  func reportingUpsampler(_ start: PipelineProgress, stages: Int, to handler: PipelineProgressHandler?) throws -> (Upsampler, onStage: (Int) -> Void) {
    let upsampler = try makeUpsampler()
    var state = start
    state.stages = max(1, stages)
    upsampler.onStep = { done, total in
      (state.step, state.steps) = (done, total)
      try state.report(to: handler)
    }
    return (upsampler, { state.stage = $0 })
  }

  /// Runs `body` under this pipeline's precision.
  func inPrecision<R>(_ body: () throws -> R) rethrows -> R {
    guard let precision else { return try body() }
    return try withAutocast(precision, on: device, body)
  }
}
