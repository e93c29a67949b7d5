import NN
import Torch

/// FMBoost's flow model (the original's `FlowModel`): a velocity network v_θ(x_t, t, context)
/// trained to match u_t along a probability path between the (noised, upsampled) low-resolution
/// latent x0 and the high-resolution latent x1. Its state_dict keys are `net.<unet keys>`.
public final class CouplingFlowMatching: Module {
  public let net: EfficientUNet
  public let path: ProbabilityPath
  /// Standard deviation of extra Gaussian noise on x_t (0 in FMBoost).
  public let sigmaMin: Double

  public init(net: EfficientUNet, path: ProbabilityPath = .linear, sigmaMin: Double = 0) throws {
    guard path != .gvp || sigmaMin == 0 else { throw TorchError.invalidArgument("the gvp path requires sigma_min = 0") }
    self.net = net
    self.path = path
    self.sigmaMin = sigmaMin
    super.init()
    register("net", net)
  }

  /// v = net(x, t, context); a one-element t applies to the whole batch.
  public func velocity(_ x: Tensor, t: Tensor, context: Tensor?) throws -> Tensor {
    try net(x, t: t, context: context)
  }

  public struct Loss {
    public let loss: Tensor
    public let t: Tensor
    public let xt: Tensor
    public let ut: Tensor
    public let vt: Tensor
  }

  /// How v is compared with u: the original's mean squared error, or the mean absolute error that
  /// the super-resolution literature (EDSR) found to train faster to a higher PSNR.
  public enum Distance: String, Sendable, CaseIterable {
    case mse, l1
  }

  /// The training loss: t ~ U[0, 1) per sample (or the given t), x_t on the path, u_t its
  /// velocity, loss = mean((v − u)²) over every element (or mean |v − u| for `.l1`).
  public func trainingLoss(x1: Tensor, x0: Tensor, context: Tensor?, t given: Tensor? = nil, generator: Generator? = nil,
                           distance: Distance = .mse) throws -> Loss {
    let t = try given ?? Tensor.rand([x1.size(0)], dtype: x1.dtype, generator: generator, device: x1.device)
    var xt = try path.interpolate(x0: x0, x1: x1, t: t)
    if sigmaMin > 0 { xt = try xt + xt.randnLike(generator: generator) * sigmaMin }
    let ut = try path.velocity(x0: x0, x1: x1, t: t)
    let vt = try velocity(xt, t: t, context: context)
    let error = try vt - ut
    return Loss(loss: try (distance == .mse ? error.square() : error.abs()).mean(), t: t, xt: xt, ut: ut, vt: vt)
  }
}
