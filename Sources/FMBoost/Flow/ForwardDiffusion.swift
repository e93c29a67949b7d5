import Foundation
import Torch

/// The noise augmentation of the original (`ForwardDiffusion`): the shifted-cosine ᾱ table
/// over 1000 steps, computed in float64 and stored as float32, and q_sample at one fixed step.
public struct ForwardDiffusion: Sendable {
  public static let defaultSteps = 1000
  /// ᾱ_k for k = 0…999 (float32 values).
  public let alphaBar: [Float]

  /// `imageSize` and `referenceSize` give the log-SNR shift 2·ln(ref/size); the trainer uses the
  /// defaults (64 and 64: no shift) whatever the real latent size.
  public init(imageSize: Int = 64, steps: Int = defaultSteps, referenceSize: Int = 64) {
    let shift = 2 * Foundation.log(Double(referenceSize) / Double(imageSize))
    alphaBar = (0..<steps).map { k in
      // np.linspace(0, 1, steps)[k]
      let tau = steps > 1 ? Double(k) / Double(steps - 1) : 0
      let logSNR = -2 * Foundation.log(Foundation.tan(Double.pi * tau / 2) + 1e-5) + shift
      return Float(1 / (1 + Foundation.exp(-logSNR)))
    }
  }

  /// The original's rule for `noising_step`: ≤ 0 turns augmentation off, else 2…999.
  public static func isValidNoisingStep(_ step: Int) -> Bool { step <= 0 || (2..<defaultSteps).contains(step) }

  /// √ᾱ_step·x + √(1 − ᾱ_step)·noise; the noise is drawn from `generator` when not given.
  public func qSample(_ x: Tensor, step: Int, noise: Tensor? = nil, generator: Generator? = nil) throws -> Tensor {
    guard alphaBar.indices.contains(step) else {
      throw TorchError.invalidArgument("noising step \(step) is outside 0..<\(alphaBar.count)")
    }
    // In float32, as the original computes sqrt(alpha_bar[t]) and sqrt(1 - alpha_bar[t]).
    let a = alphaBar[step]
    let eps = try noise ?? x.randnLike(generator: generator)
    return try x * Double(a.squareRoot()) + eps * Double((1 - a).squareRoot())
  }
}
