import NN
import Torch

/// A layer that also takes the text context (the UNet's sequences pass it on).
public protocol ContextLayer: Module {
  func callAsFunction(_ x: Tensor, context: Tensor) throws -> Tensor
}
