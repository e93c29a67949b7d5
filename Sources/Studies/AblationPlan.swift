import Foundation

/// What the ablation study trains and scores: the paper's design choices (the variants), each in
/// two first stages (the spaces), at two training lengths and several seeds, scored on clean and on
/// degraded low-resolution inputs (the conditions). `AblationStudy` runs it; the defaults are
/// the study docs/ablations.md reports.
public struct AblationPlan: Sendable {
  /// A first stage and the YAML (flow style) of its `first_stage_cfg`.
  public struct Space: Sendable {
    public let name: String
    public let latentChannels: Int
    public let firstStageYAML: String
    /// The autoencoder files `upsample` needs for it (none for pixel-unshuffle).
    public let autoencoder: [String]?
    /// `scale_factor`: 1/std of the space's latents on the training crops (the trainer logs it for
    /// the first batch), so both spaces meet the noise augmentation at unit variance, as SD's
    /// latents do with 0.18215.
    public let latentScale: Double
  }

  /// One design choice, as config overrides of the paper's configuration.
  public struct Variant: Sendable {
    public let name: String
    /// What the paper says about it, for the report.
    public let claim: String
    public let overrides: [String]
  }

  public enum Condition: String, Sendable, CaseIterable {
    /// Clean bicubic downscales, as training sees them.
    case clean
    /// The downscale as a JPEG of quality 40.
    case jpeg = "jpeg-40"
    /// The downscale decoded from its TAEF2 latent plus noise of 0.2 latent standard deviations.
    case latentNoise = "latent-noise-0.2"
  }

  public var spaces: [Space]
  public var variants: [Variant]
  /// Training lengths; the shorter ones are checkpoints of the longest run.
  public var lengths: [Int]
  public var seeds: [UInt64]
  public var eulerSteps: [Int]
  public var conditions: [Condition] = Condition.allCases
  public var trainingImages = "data/sr-photos"
  public var heldOutImages = "data/sr-photos/validation"
  /// Photos are downscaled to this short side, then centre-cropped to `evaluationSide` a side.
  public var shortSide = 512, evaluationSide = 256
  /// Patch FID/KID on clean inputs: the Inception file (nil: none), crops per photo and their size.
  public var inception: String? = "data/inception/fid_inception_v3.pt"
  public var patchCrops = 4, patchSize = 64
  public var cropsPerImage = 16
  public var network = (channels: 32, mult: [1, 2, 2])
  public var batchSize = 8

  public static let paperVariant = "paper"

  /// The study as docs/ablations.md reports it.
  public static var standard: AblationPlan {
    AblationPlan(spaces: [.taef2, .pixelUnshuffle8], variants: standardVariants, lengths: [500, 1500], seeds: [1, 2], eulerSteps: [1, 4, 20])
  }

  /// A few minutes' run of every part (the test and `make ablations-quick`).
  public static var quick: AblationPlan {
    var plan = AblationPlan(spaces: [.taef2], variants: standardVariants.filter { ["paper", "noise-start"].contains($0.name) },
                            lengths: [4, 8], seeds: [1], eulerSteps: [1, 2])
    (plan.network, plan.cropsPerImage, plan.patchCrops, plan.batchSize) = ((32, [1, 2]), 1, 2, 2)
    return plan
  }

  public static let standardVariants: [Variant] = [
    Variant(name: paperVariant, claim: "the paper's configuration: coupling (x0 = the upsampled low-resolution latent), pixel-space upsampling (PSU), noise augmentation at step 400", overrides: []),
    Variant(name: "noise-start", claim: "coupling flow matching needs fewer steps and is more faithful than starting from noise (the paper's central claim)",
            overrides: ["model.params.start_from_noise=true", "model.params.noising_step=-1"]),
    Variant(name: "no-augmentation", claim: "noise augmentation of the coupled source makes the model robust to inputs unlike its training inputs",
            overrides: ["model.params.noising_step=-1"]),
    Variant(name: "augmentation-100", claim: "the amount of augmentation: a smaller step than the paper's 400", overrides: ["model.params.noising_step=100"]),
    Variant(name: "latent-bilinear", claim: "upsampling in pixel space and encoding (PSU) beats upsampling the latent itself",
            overrides: ["model.params.upsampling_mode=bilinear"]),
  ]
}

extension AblationPlan.Space {
  public static let taef2 = AblationPlan.Space(
    name: "taef2", latentChannels: 32,
    firstStageYAML: "{target: fmboost.taesd.TAESD, params: {encoder_path: ../shared/weights/taef2_encoder.pth, decoder_path: ../shared/weights/taef2_decoder.pth}}",
    autoencoder: ["../shared/weights/taef2_encoder.pth", "../shared/weights/taef2_decoder.pth"], latentScale: 1.23)

  /// Pixel-unshuffle ×8: the same latent grid as TAEF2's, with nothing learned or lost.
  public static let pixelUnshuffle8 = AblationPlan.Space(
    name: "pixel-unshuffle-8", latentChannels: 192,
    firstStageYAML: "{target: fmboost.pixel_unshuffle.PixelUnshuffle, params: {factor: 8}}",
    autoencoder: nil, latentScale: 1.76)
}
