import Foundation
import Torch

/// The sinusoidal embedding of the original (float32): freq_i = exp(−ln(max_period)·i/half),
/// [cos(t·freq), sin(t·freq)] — cosine half first — with a zero column when `dim` is odd.
/// FMBoost feeds t ∈ [0, 1] unscaled.
public func timestepEmbedding(_ t: Tensor, dim: Int, maxPeriod: Double = 10_000) throws -> Tensor {
  let half = dim / 2
  let freqs = try (Tensor.arange(0, Double(half), device: t.device) * (-Foundation.log(maxPeriod) / Double(half))).exp()
  let args = try t.to(.float32).reshape([-1, 1]) * freqs.reshape([1, half])
  var embedding = try Tensor.cat([args.cos(), args.sin()], dim: 1)
  if dim % 2 == 1 { embedding = try embedding.pad([0, 1]) }
  return embedding
}
