import Foundation
import Torch

/// Adaptive Dormand–Prince 5(4) as torchdiffeq implements it: the same initial-step selection,
/// RMS error norm over atol + rtol·max(|y0|, |y1|), step-size controller (safety 0.9, growth ≤ 10,
/// shrink ≥ 0.2) and quartic dense output to reach the grid times, so results agree with
/// `odeint(..., method="dopri5")` to within the tolerance.
struct Dopri5 {
  let f: VectorField
  let atol: Double
  let rtol: Double
  /// Steps (accepted or rejected) allowed to reach one grid time, torchdiffeq's `max_num_steps`.
  let maxSteps: Int

  static let c: [Double] = [1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
  static let a: [[Double]] = [
    [1.0 / 5],
    [3.0 / 40, 9.0 / 40],
    [44.0 / 45, -56.0 / 15, 32.0 / 9],
    [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
    [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
    [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
  ]
  static let b: [Double] = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0]
  static let bError: [Double] = [
    35.0 / 384 - 1951.0 / 21600, 0, 500.0 / 1113 - 22642.0 / 50085, 125.0 / 192 - 451.0 / 720,
    -2187.0 / 6784 + 12231.0 / 42400, 11.0 / 84 - 649.0 / 6300, -1.0 / 60,
  ]
  static let cMid: [Double] = [
    6025192743.0 / 30085553152 / 2, 0, 51252292925.0 / 65400821598 / 2, -2691868925.0 / 45128329728 / 2,
    187940372067.0 / 1594534317056 / 2, -1776094331.0 / 19743644256 / 2, 11237099.0 / 235043384 / 2,
  ]

  init(f: @escaping VectorField, atol: Double, rtol: Double, maxSteps: Int = ODETolerance.defaultMaxSteps) {
    self.f = f
    self.atol = atol
    self.rtol = rtol
    self.maxSteps = maxSteps
  }

  /// The Dormand–Prince 5th-order formula at a fixed step count, without error control (to
  /// measure the method's order of convergence).
  func integrateFixed(y0 start: Tensor, from t0: Double, to t1: Double, steps: Int) throws -> Tensor {
    var evaluations = 0
    let dt = (t1 - t0) / Double(steps)
    var y = start
    for i in 0..<steps {
      let t = t0 + Double(i) * dt
      let f0 = try f(t, y)
      y = try step(t, y, f0, dt, &evaluations).0
    }
    return y
  }

  private func rms(_ x: Tensor) throws -> Double { try x.to(.float64).square().mean().sqrt().item() }

  /// One Dormand–Prince step: the 5th-order solution, the error estimate, all seven stages.
  private func step(_ t0: Double, _ y0: Tensor, _ f0: Tensor, _ dt: Double, _ evaluations: inout Int) throws -> (Tensor, Tensor, [Tensor]) {
    var k = [f0]
    for i in 0..<6 {
      var yi = y0
      for (j, aij) in Self.a[i].enumerated() where aij != 0 { yi = try yi + k[j] * (dt * aij) }
      evaluations += 1
      k.append(try f(t0 + Self.c[i] * dt, yi))
    }
    // The 6th stage's input is the 5th-order solution (FSAL).
    var y1 = y0
    for (j, bj) in Self.b.enumerated() where bj != 0 { y1 = try y1 + k[j] * (dt * bj) }
    var error = try y0.zerosLike()
    for (j, ej) in Self.bError.enumerated() where ej != 0 { error = try error + k[j] * (dt * ej) }
    return (y1, error, k)
  }

  /// The state of torchdiffeq's `_RungeKuttaState`: the last accepted interval [t0, t1], the state
  /// and derivative at t1, the next step size, and the dense-output polynomial of that interval.
  private struct State {
    var y1: Tensor
    var f1: Tensor
    var t0: Double
    var t1: Double
    var dt: Double
    var interpolant: [Tensor]
  }

  /// torchdiffeq's `RKAdaptiveStepsizeODESolver.integrate`: for each grid time, step only while it
  /// lies beyond the last accepted interval, then evaluate that interval's quartic interpolant, so a
  /// grid finer than the steps costs no extra evaluations.
  func integrate(y0 start: Tensor, grid: [Double], keepTrajectory: Bool, onStep: ((Int, Int) throws -> Void)?) throws -> ODESolution {
    try Self.requireFinite(start, "the initial state")
    var evaluations = 1
    let f0 = try f(grid[0], start)
    let direction: Double = grid.last! >= grid[0] ? 1 : -1
    let dt0 = direction * (try initialStep(t0: grid[0], y0: start, f0: f0, direction: direction, evaluations: &evaluations))
    var state = State(y1: start, f1: f0, t0: grid[0], t1: grid[0], dt: dt0, interpolant: Array(repeating: start, count: 5))
    var trajectory = keepTrajectory ? [start] : []
    var accepted = 0, rejected = 0
    var output = start
    for (index, target) in grid.enumerated().dropFirst() {
      var steps = 0
      while direction * (target - state.t1) > 0 {
        guard steps < maxSteps else {
          throw ODEError.tooManySteps(maxSteps, reached: state.t1, target: target)
        }
        if try adaptiveStep(&state, &evaluations) { accepted += 1 } else { rejected += 1 }
        steps += 1
      }
      output = try Self.evaluate(state.interpolant, x: (target - state.t0) / (state.t1 - state.t0))
      if keepTrajectory { trajectory.append(output) }
      try onStep?(index, grid.count - 1)
    }
    return ODESolution(final: output, trajectory: trajectory, evaluations: evaluations, acceptedSteps: accepted, rejectedSteps: rejected)
  }

  /// One attempted step (torchdiffeq's `_adaptive_step`); returns whether it was accepted.
  private func adaptiveStep(_ state: inout State, _ evaluations: inout Int) throws -> Bool {
    let (t0, y0, f0, dt) = (state.t1, state.y1, state.f1, state.dt)
    guard t0 + dt != t0, dt.isFinite else { throw ODEError.stepSizeUnderflow(dt, at: t0) }
    try Self.requireFinite(y0, "the state at t = \(t0)")
    let (y1, error, k) = try step(t0, y0, f0, dt, &evaluations)
    let ratio = try errorRatio(error, y0, y1)
    guard ratio.isFinite else { throw ODEError.nonFinite("the error estimate at t = \(t0)") }
    let accept = ratio <= 1
    if accept {
      state.interpolant = try interpolant(y0: y0, y1: y1, k: k, dt: dt)
      state = State(y1: y1, f1: k[6], t0: t0, t1: t0 + dt, dt: optimalStep(dt, ratio), interpolant: state.interpolant)
    } else {
      state.dt = optimalStep(dt, ratio)
    }
    return accept
  }

  private static func requireFinite(_ y: Tensor, _ what: String) throws {
    guard try y.isFinite().all().item() != 0 else { throw ODEError.nonFinite(what) }
  }

  private func errorRatio(_ error: Tensor, _ y0: Tensor, _ y1: Tensor) throws -> Double {
    let tolerance = try y0.abs().maximum(y1.abs()) * rtol + atol
    return try rms(error / tolerance)
  }

  /// torchdiffeq's _optimal_step_size with safety 0.9, ifactor 10, dfactor 0.2, order 5.
  private func optimalStep(_ last: Double, _ ratio: Double) -> Double {
    if ratio == 0 { return last * 10 }
    let dfactor = ratio < 1 ? 1.0 : 0.2
    let factor = min(10, max(0.9 / pow(ratio, 1.0 / 5), dfactor))
    return last * factor
  }

  /// torchdiffeq's _select_initial_step (Hairer, Nørsett & Wanner) with order 4.
  private func initialStep(t0: Double, y0: Tensor, f0: Tensor, direction: Double, evaluations: inout Int) throws -> Double {
    let scale = try y0.abs() * rtol + atol
    let d0 = try rms(y0 / scale), d1 = try rms(f0 / scale)
    let h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
    let y1 = try y0 + f0 * (direction * h0)
    evaluations += 1
    let f1 = try f(t0 + direction * h0, y1)
    let d2 = try rms((f1 - f0) / scale) / h0
    let h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? max(1e-6, h0 * 1e-3) : pow(0.01 / max(d1, d2), 1.0 / 5)
    return min(100 * h0, h1)
  }

  /// The quartic through y0, the midpoint estimate and y1 with the end slopes (torchdiffeq's
  /// `_interp_fit`), as coefficients of x⁰ … x⁴ over x = (t − t0) / dt.
  private func interpolant(y0: Tensor, y1: Tensor, k: [Tensor], dt: Double) throws -> [Tensor] {
    var yMid = y0
    for (j, cj) in Self.cMid.enumerated() where cj != 0 { yMid = try yMid + k[j] * (dt * cj) }
    let f0 = k[0], f1 = k[6]
    let a = try (f1 - f0) * (2 * dt) - (y1 + y0) * 8 + yMid * 16
    let b = try (f0 * 5 - f1 * 3) * dt + y0 * 18 + y1 * 14 - yMid * 32
    let c = try (f1 - f0 * 4) * dt - y0 * 11 - y1 * 5 + yMid * 16
    let d = try f0 * dt
    return [y0, d, c, b, a]
  }

  /// torchdiffeq's `_interp_evaluate`.
  private static func evaluate(_ coefficients: [Tensor], x: Double) throws -> Tensor {
    var total = try coefficients[0] + coefficients[1] * x
    var power = x
    for coefficient in coefficients.dropFirst(2) {
      power *= x
      total = try total + coefficient * power
    }
    return total
  }
}
