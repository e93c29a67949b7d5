import Torch

/// A lookup table of vectors — `nn.Embedding` (weight (count, dim)).
public final class Embedding: Module {
  public let weight: Parameter

  public init(_ p: ModuleScope, count: Int, dim: Int) throws {
    weight = try p.parameter("weight", shape: [count, dim], initial: .normal)
    super.init(p)
  }

  /// Integer ids of any shape → their vectors, shape + [dim].
  public func callAsFunction(_ ids: Tensor) throws -> Tensor {
    try weight.value.indexSelect(dim: 0, ids.reshape([-1])).reshape(ids.shape + [weight.value.size(1)])
  }
}
