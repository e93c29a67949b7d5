import Torch

/// How a flow is integrated from t = 0 to t = 1: the method, the number of equal intervals of
/// [0, 1] (for dopri5 only its output times) and dopri5's tolerances.
public struct FlowSampling: Sendable, Equatable {
  public var method: ODEMethod
  public var steps: Int
  public var atol: Double
  public var rtol: Double

  public init(method: ODEMethod, steps: Int, atol: Double = ODETolerance.defaultAtol, rtol: Double = ODETolerance.defaultRtol) {
    self.method = method
    self.steps = steps
    self.atol = atol
    self.rtol = rtol
  }
}

extension CouplingFlowMatching {
  /// x1 from x0: integrates dx/dt = v_θ(x, t, context) over `sampling`'s grid — the one sampling
  /// path of the package (upsampling, training validation, `forward ode`). With `tiling` the network
  /// runs tile by tile, x and its context cut together. `onStep(done, total)` reports each grid
  /// interval; throwing from it stops the integration with that error (cancellation).
  public func sample(
    from x0: Tensor, context: Tensor?, _ sampling: FlowSampling, tiling: Tiling? = nil, keepTrajectory: Bool = false,
    onStep: ((_ done: Int, _ total: Int) throws -> Void)? = nil
  ) throws -> ODESolution {
    let channels = x0.size(1)
    let field: VectorField = { [self] t, x in
      let time = try Tensor(scalar: Float(t)).placed(on: x.device)
      guard let tiling else { return try velocity(x, t: time, context: context) }
      let joined = try context.map { try Tensor.cat([x, $0], dim: 1) } ?? x
      return try tiling.apply(joined, scale: 1) { piece in
        guard context != nil else { return try velocity(piece, t: time, context: nil) }
        let parts = try piece.split(sizes: [channels, piece.size(1) - channels], dim: 1)
        return try velocity(parts[0], t: time, context: parts[1])
      }
    }
    return try odeint(field, y0: x0, grid: try linspaceGrid(0, 1, count: sampling.steps + 1), method: sampling.method,
                      atol: sampling.atol, rtol: sampling.rtol, keepTrajectory: keepTrajectory, onStep: onStep)
  }
}
