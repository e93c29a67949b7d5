import Checkpoint
import FMBoost
import Foundation
import TestSupport
import Testing
import Torch

/// Adaptive dopri5 over multi-point grids against torchdiffeq: `Tests/Fixtures/dopri5_unet_a.safetensors`
/// (benchmarks/fixtures/make_dopri5_fixture.py) holds `odeint(ode_fn, x0, linspace(0, 1, N),
/// method="dopri5", atol, rtol)` with the golden unet_a flow (spec 2.5), every grid state, and the
/// number of vector-field evaluations torchdiffeq made (`nfe.*`; the times of those calls are in
/// `evals_t.*`). torchdiffeq steps past grid times and reaches them by dense-output interpolation,
/// so a grid of 21 points costs it no more evaluations than one of 6.
///
/// Tolerance: max|a − b| / max|b| ≤ 1e-4 per grid state (measured here: 1.6e-5 and 1.8e-5 at
/// atol 1e-6, 2.3e-6 at atol 1e-3), with the same number of evaluations. At atol 1e-6 the float32
/// error estimate of the first small steps is close to rounding level, so another libtorch (whose
/// kernels round differently) may move the step sizes: the script's notes measure 0.8–1.9e-4 for
/// torchdiffeq itself fed the field in float64. A solver that steps onto the grid times instead of
/// interpolating is ~9e-4 off and takes 38 / 128 evaluations, not 20.
@Suite struct Dopri5TrajectoryTests {
  @Test(arguments: [
    ("n6.atol1e-6", 6, 1e-6, 1e-3, 1e-4), ("n21.atol1e-6", 21, 1e-6, 1e-3, 1e-4), ("n21.atol1e-3", 21, 1e-3, 1e-3, 1e-4),
  ])
  func gridStatesMatchTorchdiffeq(_ key: String, _ points: Int, _ atol: Double, _ rtol: Double, _ tolerance: Double) throws {
    let fixture = try SafeTensorsFile(path: Shared.fixture("dopri5_unet_a.safetensors"))
    let io = try SafeTensorsFile(path: Shared.golden("flow_a.io.safetensors"))
    let flow = try CouplingFlowMatching(net: EfficientUNetTests.goldenUNet())
    let context = try io.tensor("context")
    let reference = try fixture.tensor("traj.\(key)")
    let referenceNFE = try fixture.tensor("nfe.\(key)").itemInt()
    var calls = 0
    let solution = try withNoGrad {
      try odeint(
        { t, x in
          calls += 1
          return try flow.velocity(x, t: Tensor(scalar: Float(t)), context: context)
        },
        y0: io.tensor("x0"), grid: linspaceGrid(0, 1, count: points), method: .dopri5, atol: atol, rtol: rtol,
        keepTrajectory: true)
    }
    let nfe = "NFE: ours \(calls) (solution.evaluations \(solution.evaluations), \(solution.acceptedSteps) accepted, "
      + "\(solution.rejectedSteps) rejected), torchdiffeq \(referenceNFE)"
    try #require(solution.trajectory.count == points, "\(key): \(solution.trajectory.count) states for \(points) grid times; \(nfe)")
    var worst = 0.0
    for i in 0..<points {
      let expected = try reference.select(dim: 0, index: i)
      let relative = try solution.trajectory[i].maxAbsDifference(expected) / expected.abs().max().item()
      worst = max(worst, relative)
      #expect(relative <= tolerance, "traj.\(key) state \(i) of \(points): max|a - b| / max|b| = \(relative); \(nfe)")
    }
    #expect(calls == referenceNFE, "\(nfe)")
    print("traj.\(key): worst relative error \(worst); \(nfe)")
  }

  @Test func failuresAreClearErrors() throws {
    let y0 = try Tensor.ones([3])
    let grid = try linspaceGrid(0, 1, count: 5)
    // dy/dt = y² blows up at t = 1: the state turns non-finite or the step size underflows.
    #expect {
      _ = try odeint({ _, y in try y * y * 10 }, y0: y0, grid: grid, method: .dopri5)
    } throws: { error in
      guard let e = error as? ODEError else { return false }
      switch e {
      case .nonFinite, .stepSizeUnderflow, .tooManySteps: return true
      default: return false
      }
    }
    // A stiff field exhausts a small step budget; the message names the limit and the target.
    #expect {
      _ = try odeint({ _, y in try y * -1e6 }, y0: y0, grid: grid, method: .dopri5, maxSteps: 50)
    } throws: { "\($0)".contains("50 steps did not reach t = 0.25") }
    #expect(throws: ODEError.invalidTolerance("atol must be a positive finite number, got 0.0")) {
      try odeint({ _, y in y }, y0: y0, grid: grid, method: .dopri5, atol: 0)
    }
    #expect(throws: ODEError.invalidTolerance("rtol must be a positive finite number, got inf")) {
      try odeint({ _, y in y }, y0: y0, grid: grid, method: .dopri5, rtol: .infinity)
    }
    #expect { _ = try odeint({ _, y in y }, y0: y0, grid: [0, 0.5, 0.5, 1], method: .euler) } throws: { "\($0)".contains("strictly monotonic") }
    #expect { _ = try odeint({ _, y in y }, y0: y0, grid: [0], method: .dopri5) } throws: { "\($0)".contains("at least two times") }
    let nan = try Tensor([Float.nan, 1, 1])
    #expect(throws: ODEError.nonFinite("the initial state")) { try odeint({ _, y in y }, y0: nan, grid: grid, method: .dopri5) }
  }
}
