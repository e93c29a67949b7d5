import FMBoost
import Torch

extension TrainingConfig {
  /// The low-resolution image of a batch of high-resolution crops (`lowResSize` pixels a side).
  public func lowResImage(_ images: Tensor) throws -> Tensor {
    switch downsampling {
    case .bilinear: return try images.interpolate(size: (lowResSize, lowResSize), mode: .bilinear)
    case .bicubicAntialias: return try images.interpolate(size: (lowResSize, lowResSize), mode: .bicubic, antialias: true)
    }
  }
}

extension TrainingConfig {
  /// Whether the network sees the upsampled latent beside x_t: the original's rule.
  public var takesContext: Bool { concatContext || startFromNoise }

  /// How the trained model upsamples: what `fmboost export` records, with the ODE method and steps
  /// of validation unless given.
  public func recipe(method: ODEMethod? = nil, steps: Int? = nil) throws -> UpsamplingRecipe {
    guard highResSize % lowResSize == 0 else {
      throw ConfigError("model.params.high_res_size \(highResSize) is not a whole multiple of low_res_size \(lowResSize): a model file records a whole scale")
    }
    var recipe = UpsamplingRecipe(
      firstStage: try firstStage.recipeFirstStage(), scale: highResSize / lowResSize, latentScale: scaleFactor, mode: upsamplingMode, noisingStep: noisingStep,
      startFromNoise: startFromNoise, lowResDownsampling: downsampling.rawValue,
      method: method ?? validationMethod, steps: steps ?? validationSteps)
    recipe.takesContext = takesContext
    return recipe
  }
}

extension TrainingConfig.FirstStage {
  /// The recipe's name for it (a TAESD pair is read for its kind).
  public func recipeFirstStage() throws -> UpsamplingRecipe.FirstStage {
    switch self {
    case .none: return .identity
    case .pixelUnshuffle(let f): return .pixelUnshuffle(factor: f)
    case .stableDiffusion: return .stableDiffusionVAE
    case .tiny(let encoder, let decoder): return .tiny(kind: try AutoencoderLoader.load([encoder, decoder]).kind)
    }
  }

  /// Pixels per latent position, known before loading (SD's and the TAESD family's are 8).
  public var downsamplingFactor: Int? {
    switch self {
    case .none: return 1
    case .stableDiffusion, .tiny: return 8
    case .pixelUnshuffle(let factor): return factor
    }
  }

  /// One line that tells first stages apart (recorded in latent shards).
  public var identifier: String {
    switch self {
    case .none: return "none"
    case .stableDiffusion(let path): return "AutoencoderKL:\(path)"
    case .tiny(let encoder, let decoder): return "TAESD:\(encoder),\(decoder)"
    case .pixelUnshuffle(let factor): return "PixelUnshuffle:\(factor)"
    }
  }

  /// The autoencoder this first stage names (identity for pixel space).
  public func load(device: Device = .cpu) throws -> any LatentAutoencoder {
    switch self {
    case .none: return IdentityAutoencoder()
    case .stableDiffusion(let path): return try AutoencoderLoader.load([path], device: device)
    case .tiny(let encoder, let decoder): return try AutoencoderLoader.load([encoder, decoder], device: device)
    case .pixelUnshuffle(let factor): return try PixelUnshuffleAutoencoder(factor: factor)
    }
  }
}
