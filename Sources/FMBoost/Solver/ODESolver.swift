import Torch

/// Integration methods. Names shared with torchdiffeq have its semantics: a fixed-grid method
/// takes one step per grid interval (N grid points → N − 1 steps), and "rk4" is torchdiffeq's
/// 3/8-rule Runge–Kutta.
public enum ODEMethod: String, Sendable, CaseIterable, Codable {
  case euler
  case midpoint
  /// Heun's second-order method (torchdiffeq "heun2").
  case heun
  /// torchdiffeq's "rk4": the 3/8 rule.
  case rk4
  /// The classical fourth-order Runge–Kutta method.
  case rk4Classic = "rk4-classic"
  /// Adaptive Dormand–Prince 5(4) with atol/rtol; the grid gives only the output times.
  case dopri5

  public var isAdaptive: Bool { self == .dopri5 }

  /// Network evaluations per fixed step.
  public var evaluationsPerStep: Int {
    switch self {
    case .euler: return 1
    case .midpoint, .heun: return 2
    case .rk4, .rk4Classic: return 4
    case .dopri5: return 6
    }
  }
}

/// The result of an integration.
public struct ODESolution {
  /// The state at the last grid time.
  public let final: Tensor
  /// The state at every grid time (only when asked for).
  public let trajectory: [Tensor]
  /// How many times the vector field was evaluated.
  public let evaluations: Int
  /// Accepted and rejected steps (adaptive methods; for fixed grids, the steps taken).
  public let acceptedSteps: Int
  public let rejectedSteps: Int
}

/// Why an integration stopped.
public enum ODEError: Error, CustomStringConvertible, Equatable {
  case invalidGrid(String)
  case invalidTolerance(String)
  case nonFinite(String)
  case stepSizeUnderflow(Double, at: Double)
  case tooManySteps(Int, reached: Double, target: Double)

  public var description: String {
    switch self {
    case .invalidGrid(let why): return "invalid ODE time grid: \(why)"
    case .invalidTolerance(let why): return why
    case .nonFinite(let what): return "dopri5: non-finite values in \(what) (the vector field diverged)"
    case .stepSizeUnderflow(let dt, let t): return "dopri5: step size underflow (dt = \(dt) at t = \(t)); loosen the tolerances (atol, rtol)"
    case .tooManySteps(let n, let reached, let target):
      return "dopri5: \(n) steps did not reach t = \(target) (stopped at t = \(reached)); loosen the tolerances (atol, rtol) or raise the step limit"
    }
  }
}

/// The error control of adaptive methods; the defaults are torchdiffeq's and the original's
/// `generate` (atol 1e-6, rtol 1e-3).
public enum ODETolerance {
  public static let defaultAtol = 1e-6
  public static let defaultRtol = 1e-3
  /// torchdiffeq's `max_num_steps` default (2³¹ − 1) per grid time; ours is smaller so that a
  /// diverging field fails in minutes rather than never.
  public static let defaultMaxSteps = 100_000

  /// Throws unless atol and rtol are positive and finite.
  public static func validate(atol: Double, rtol: Double) throws {
    for (name, value) in [("atol", atol), ("rtol", rtol)] where !(value.isFinite && value > 0) {
      throw ODEError.invalidTolerance("\(name) must be a positive finite number, got \(value)")
    }
  }
}

/// dy/dt = f(t, y). Times are kept in Double; a network receives them as float32 tensors.
public typealias VectorField = (_ t: Double, _ y: Tensor) throws -> Tensor

/// Integrates `f` from `y0` over the time `grid` (increasing or decreasing).
public func odeint(
  _ f: @escaping VectorField, y0: Tensor, grid: [Double], method: ODEMethod,
  atol: Double = ODETolerance.defaultAtol, rtol: Double = ODETolerance.defaultRtol, maxSteps: Int = ODETolerance.defaultMaxSteps,
  keepTrajectory: Bool = false, onStep: ((_ done: Int, _ total: Int) throws -> Void)? = nil
) throws -> ODESolution {
  try validateGrid(grid)
  if method.isAdaptive {
    try ODETolerance.validate(atol: atol, rtol: rtol)
    guard maxSteps > 0 else { throw ODEError.invalidTolerance("the step limit must be positive, got \(maxSteps)") }
    return try Dopri5(f: f, atol: atol, rtol: rtol, maxSteps: maxSteps)
      .integrate(y0: y0, grid: grid, keepTrajectory: keepTrajectory, onStep: onStep)
  }
  var evaluations = 0
  func field(_ t: Double, _ y: Tensor) throws -> Tensor {
    evaluations += 1
    return try f(t, y)
  }
  var y = y0
  var trajectory = keepTrajectory ? [y0] : []
  for i in 0..<(grid.count - 1) {
    let (t0, t1) = (grid[i], grid[i + 1])
    let dt = t1 - t0
    let h = dt
    switch method {
    case .euler:
      y = try y + field(t0, y) * h
    case .midpoint:
      let k1 = try field(t0, y)
      y = try y + field(t0 + dt / 2, y + k1 * (h / 2)) * h
    case .heun:
      let k1 = try field(t0, y)
      let k2 = try field(t1, y + k1 * h)
      y = try y + (k1 + k2) * (h / 2)
    case .rk4:
      let k1 = try field(t0, y)
      let k2 = try field(t0 + dt * (1.0 / 3), y + k1 * (h / 3))
      let k3 = try field(t0 + dt * (2.0 / 3), y + (k2 - k1 * (1.0 / 3)) * h)
      let k4 = try field(t1, y + (k1 - k2 + k3) * h)
      y = try y + (k1 + (k2 + k3) * 3 + k4) * (h * 0.125)
    case .rk4Classic:
      let k1 = try field(t0, y)
      let k2 = try field(t0 + dt / 2, y + k1 * (h / 2))
      let k3 = try field(t0 + dt / 2, y + k2 * (h / 2))
      let k4 = try field(t1, y + k3 * h)
      y = try y + (k1 + (k2 + k3) * 2 + k4) * (h / 6)
    case .dopri5:
      preconditionFailure("adaptive methods are handled above")
    }
    if keepTrajectory { trajectory.append(y) }
    try onStep?(i + 1, grid.count - 1)
  }
  return ODESolution(final: y, trajectory: trajectory, evaluations: evaluations, acceptedSteps: grid.count - 1, rejectedSteps: 0)
}

/// A grid has at least two finite times, strictly increasing or strictly decreasing.
func validateGrid(_ grid: [Double]) throws {
  guard grid.count >= 2 else { throw ODEError.invalidGrid("it needs at least two times, got \(grid.count)") }
  guard grid.allSatisfy(\.isFinite) else { throw ODEError.invalidGrid("it holds a non-finite time") }
  let increasing = grid[1] > grid[0]
  for (a, b) in zip(grid, grid.dropFirst()) where increasing ? !(b > a) : !(b < a) {
    throw ODEError.invalidGrid("times must be strictly monotonic (\(a) then \(b))")
  }
}

/// The Dormand–Prince 5th-order formula at `steps` equal steps, without error control — for
/// measuring its order of convergence.
public func dopri5FixedSteps(_ f: @escaping VectorField, y0: Tensor, from t0: Double, to t1: Double, steps: Int) throws -> Tensor {
  try Dopri5(f: f, atol: 0, rtol: 0).integrateFixed(y0: y0, from: t0, to: t1, steps: steps)
}

/// The grid torch.linspace(start, end, count, dtype=float32), as the original builds it.
public func linspaceGrid(_ start: Double, _ end: Double, count: Int) throws -> [Double] {
  try Tensor.linspace(start, end, steps: count).toArray(Float.self).map(Double.init)
}
