import Foundation
import Torch

/// The interpolation x_t = α_t·x1 + σ_t·x0 between the source x0 (t = 0) and the data x1 (t = 1).
public enum ProbabilityPath: String, Sendable, Codable, CaseIterable {
  /// α_t = t, σ_t = 1 − t: the path FMBoost trains with.
  case linear
  /// α_t = sin(πt/2), σ_t = cos(πt/2) (the original's "gvp"; requires sigma_min = 0).
  case gvp

  public func alpha(_ t: Tensor) throws -> Tensor {
    switch self {
    case .linear: return t
    case .gvp: return try (t * (Double.pi / 2)).sin()
    }
  }

  public func sigma(_ t: Tensor) throws -> Tensor {
    switch self {
    case .linear: return try 1 - t
    case .gvp: return try (t * (Double.pi / 2)).cos()
    }
  }

  public func alphaDerivative(_ t: Tensor) throws -> Tensor {
    switch self {
    case .linear: return try t.onesLike()
    case .gvp: return try (t * (Double.pi / 2)).cos() * (Double.pi / 2)
    }
  }

  public func sigmaDerivative(_ t: Tensor) throws -> Tensor {
    switch self {
    case .linear: return try -t.onesLike()
    case .gvp: return try (t * (Double.pi / 2)).sin() * (-Double.pi / 2)
    }
  }

  /// x_t = α_t·x1 + σ_t·x0, with t of shape (B) broadcast over the other dimensions.
  public func interpolate(x0: Tensor, x1: Tensor, t: Tensor) throws -> Tensor {
    let tt = try padLike(t, x1)
    return try alpha(tt) * x1 + sigma(tt) * x0
  }

  /// u_t = α̇_t·x1 + σ̇_t·x0 (x1 − x0 for the linear path).
  public func velocity(x0: Tensor, x1: Tensor, t: Tensor) throws -> Tensor {
    let tt = try padLike(t, x1)
    return try alphaDerivative(tt) * x1 + sigmaDerivative(tt) * x0
  }
}

/// (B) → (B, 1, 1, ...) to broadcast against `x` (the original's `pad_v_like_x`).
func padLike(_ t: Tensor, _ x: Tensor) throws -> Tensor {
  try t.reshape([t.elementCount] + Array(repeating: 1, count: Swift.max(0, x.rank - 1)))
}
