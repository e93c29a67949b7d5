import Foundation

/// How a model upsamples, in one place (the original's `sample` path; docs/architecture.md): its
/// first stage, its scale, latent scale, upsampling mode, noise augmentation, ODE method and steps, tiling.
/// `fmboost export` records the trained part in a model file (`pipeline` metadata); every pipeline
/// reads it, applies the caller's `Overrides`, and `validate()`s the result once.
public struct UpsamplingRecipe: Sendable, Equatable {
  /// The autoencoder the model's latents belong to.
  public enum FirstStage: Sendable, Equatable, CustomStringConvertible {
    /// Pixel space.
    case identity
    /// Exact pixel-unshuffle ×factor (the default model's).
    case pixelUnshuffle(factor: Int)
    /// Stable Diffusion's AutoencoderKL.
    case stableDiffusionVAE
    /// A TAESD-family autoencoder, by its kind ("taesd", "taef2", ...).
    case tiny(kind: String)

    /// The names model files record: "identity", "pixel-unshuffle-4", "sd-vae", or a TAESD kind.
    public init(_ name: String) {
      let prefix = "pixel-unshuffle-"
      if name == "identity" { self = .identity }
      else if name == "sd-vae" { self = .stableDiffusionVAE }
      else if name.hasPrefix(prefix), let f = Int(name.dropFirst(prefix.count)) { self = .pixelUnshuffle(factor: f) }
      else { self = .tiny(kind: name) }
    }

    public var description: String {
      switch self {
      case .identity: return "identity"
      case .pixelUnshuffle(let factor): return "pixel-unshuffle-\(factor)"
      case .stableDiffusionVAE: return "sd-vae"
      case .tiny(let kind): return kind
      }
    }

    /// The autoencoder when it needs no weights (identity, pixel-unshuffle); nil otherwise.
    public func builtIn() throws -> (any LatentAutoencoder)? {
      switch self {
      case .identity: return IdentityAutoencoder()
      case .pixelUnshuffle(let factor): return try PixelUnshuffleAutoencoder(factor: factor)
      case .stableDiffusionVAE, .tiny: return nil
      }
    }
  }

  /// nil where the model file records none (a checkpoint of the original).
  public var firstStage: FirstStage?
  /// How many times larger a side comes out of one stage: the model's training ratio
  /// high_res_size / low_res_size (2 where a file records none, as the original's 512 → 1024 px).
  public var scale = 2
  /// Latent scale of the first stage (SD: 0.18215; 1 for pixel space).
  public var latentScale = 0.18215
  public var mode: UpsamplingMode = .psu
  /// Forward-diffusion step of the noise augmentation of x0 (400 in the paper; ≤ 0 turns it off).
  public var noisingStep = 400
  /// Start from N(0, I) instead of the upsampled latent (the "FM" variant).
  public var startFromNoise = false
  /// Whether the network takes the upsampled latent as a context beside x_t; nil: as its channels
  /// say (`EfficientUNetConfig.takesContext`). Training sets it from its config (`concat_context`).
  public var takesContext: Bool?
  /// How the training inputs were made from the high-resolution crops ("bilinear", "bicubic_antialias").
  public var lowResDownsampling = "bilinear"
  public var method: ODEMethod = .euler
  /// Integration steps: the grid has steps + 1 points (torchdiffeq's num_steps = steps + 1).
  public var steps = 20
  public var atol = ODETolerance.defaultAtol
  public var rtol = ODETolerance.defaultRtol
  /// Run the PSU encoder, the flow network and the decoder in tiles of this many latent positions
  /// (nil: whole, or halo tiles chosen from `memoryBudget`). Where the result is local
  /// (`Upsampler.localHalo`) these are the cores of halo tiles, exactly the whole image's result;
  /// otherwise tiles blended over overlaps.
  public var tile: Int?
  /// The peak resident memory an image's upsampling should stay within, in bytes: where the
  /// result is local, an image whose whole-image working set would exceed it runs in halo tiles
  /// sized to fit (the same pixels). nil: always whole. Models that are not local run whole.
  public var memoryBudget: Int? = 2_500_000_000

  public init(
    firstStage: FirstStage? = nil, scale: Int = 2, latentScale: Double = 0.18215, mode: UpsamplingMode = .psu, noisingStep: Int = 400,
    startFromNoise: Bool = false, lowResDownsampling: String = "bilinear", method: ODEMethod = .euler, steps: Int = 20
  ) {
    self.firstStage = firstStage
    self.scale = scale
    self.latentScale = latentScale
    self.mode = mode
    self.noisingStep = noisingStep
    self.startFromNoise = startFromNoise
    self.lowResDownsampling = lowResDownsampling
    self.method = method
    self.steps = steps
  }

  public var sampling: FlowSampling { FlowSampling(method: method, steps: steps, atol: atol, rtol: rtol) }

  /// How many times larger `stages` stages make a side.
  public func scale(stages: Int) -> Int { (0..<max(1, stages)).reduce(1) { product, _ in product * scale } }

  /// What a caller may change for one run; nil keeps the model's.
  public struct Overrides: Sendable, Equatable {
    public var latentScale: Double?
    public var mode: UpsamplingMode?
    public var noisingStep: Int?
    public var method: ODEMethod?
    public var steps: Int?
    public var atol: Double?
    public var rtol: Double?
    /// Tiles in pixels of the output (a multiple of the first stage's factor).
    public var tilePixels: Int?
    /// Bytes; 0 for always whole.
    public var memoryBudget: Int?

    public init(latentScale: Double? = nil, mode: UpsamplingMode? = nil, noisingStep: Int? = nil, method: ODEMethod? = nil, steps: Int? = nil,
                atol: Double? = nil, rtol: Double? = nil, tilePixels: Int? = nil, memoryBudget: Int? = nil) {
      (self.latentScale, self.mode, self.noisingStep, self.method, self.steps) = (latentScale, mode, noisingStep, method, steps)
      (self.atol, self.rtol, self.tilePixels, self.memoryBudget) = (atol, rtol, tilePixels, memoryBudget)
    }
  }

  /// This recipe with `overrides` applied, for a first stage of `factor` pixels per latent position.
  public func applying(_ overrides: Overrides, factor: Int) throws -> UpsamplingRecipe {
    var recipe = self
    if let v = overrides.latentScale { recipe.latentScale = v }
    if let v = overrides.mode { recipe.mode = v }
    if let v = overrides.noisingStep { recipe.noisingStep = v }
    if let v = overrides.method { recipe.method = v }
    if let v = overrides.steps { recipe.steps = v }
    if let v = overrides.atol { recipe.atol = v }
    if let v = overrides.rtol { recipe.rtol = v }
    if let v = overrides.memoryBudget { recipe.memoryBudget = v > 0 ? v : nil }
    if let pixels = overrides.tilePixels {
      guard pixels > 0, pixels % factor == 0, pixels / factor >= Tiling.minimumTile else {
        throw RecipeError(.tile, "\(pixels): must be a multiple of the first stage's \(factor) pixels per latent position and at least \(Tiling.minimumTile * factor) pixels")
      }
      recipe.tile = pixels / factor
    }
    try recipe.validate()
    return recipe
  }

  /// Every value in range.
  public func validate() throws {
    guard steps > 0 else { throw RecipeError(.steps, "must be at least 1, got \(steps)") }
    guard (1...16).contains(scale) else { throw RecipeError(.scale, "must be 1 to 16, got \(scale)") }
    guard latentScale.isFinite, latentScale > 0 else { throw RecipeError(.latentScale, "must be a positive number, got \(latentScale)") }
    guard ForwardDiffusion.isValidNoisingStep(noisingStep) else {
      throw RecipeError(.noisingStep, "must be 0 (off) or 2…\(ForwardDiffusion.defaultSteps - 1), got \(noisingStep)")
    }
    for (field, value) in [(RecipeError.Field.atol, atol), (.rtol, rtol)] where !(value.isFinite && value > 0) {
      throw RecipeError(field, "must be a positive finite number, got \(value)")
    }
    if let tile, tile < Tiling.minimumTile { throw RecipeError(.tile, "\(tile): must be at least \(Tiling.minimumTile) latent positions") }
    if let memoryBudget, memoryBudget <= 0 { throw RecipeError(.memoryBudget, "must be positive, got \(memoryBudget)") }
  }
}

/// A recipe value out of range. `problem` reads after the field's name, so a command line can put
/// its option's name there instead: --steps must be at least 1, got 0.
public struct RecipeError: Error, CustomStringConvertible, Equatable {
  public enum Field: String, Sendable {
    case scale = "the model's scale", latentScale = "the latent scale", noisingStep = "the noising step", steps = "the number of steps", atol, rtol
    case tile = "the tile", memoryBudget = "the memory budget", takesContext = "the context"
  }

  public let field: Field
  public let problem: String

  public init(_ field: Field, _ problem: String) {
    self.field = field
    self.problem = problem
  }

  public var description: String { "\(field.rawValue) \(problem)" }
}

/// The recorded part, as JSON under the model file's `pipeline` metadata key.
extension UpsamplingRecipe: Codable {
  public static let metadataKey = "pipeline"

  enum CodingKeys: String, CodingKey {
    case firstStage = "first_stage", scale, latentScale = "scale_factor", mode = "upsampling_mode", noisingStep = "noising_step"
    case startFromNoise = "start_from_noise", lowResDownsampling = "low_res_downsampling", method, steps
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      firstStage: FirstStage(try c.decode(String.self, forKey: .firstStage)), scale: try c.decodeIfPresent(Int.self, forKey: .scale) ?? 2,
      latentScale: try c.decode(Double.self, forKey: .latentScale),
      mode: try c.decode(UpsamplingMode.self, forKey: .mode), noisingStep: try c.decode(Int.self, forKey: .noisingStep),
      startFromNoise: try c.decode(Bool.self, forKey: .startFromNoise), lowResDownsampling: try c.decode(String.self, forKey: .lowResDownsampling),
      method: try c.decode(ODEMethod.self, forKey: .method), steps: try c.decode(Int.self, forKey: .steps))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encodeIfPresent(firstStage?.description, forKey: .firstStage)
    try c.encode(scale, forKey: .scale)
    try c.encode(latentScale, forKey: .latentScale)
    try c.encode(mode, forKey: .mode)
    try c.encode(noisingStep, forKey: .noisingStep)
    try c.encode(startFromNoise, forKey: .startFromNoise)
    try c.encode(lowResDownsampling, forKey: .lowResDownsampling)
    try c.encode(method, forKey: .method)
    try c.encode(steps, forKey: .steps)
  }

  public func json() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
}
