import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

@Suite struct FlowTests {
  static func flow() throws -> CouplingFlowMatching {
    try CouplingFlowMatching(net: EfficientUNetTests.goldenUNet())
  }

  @Test func pathVelocityAndLossMatchTheReference() throws {
    let io = try SafeTensorsFile(path: Shared.golden("flow_a.io.safetensors"))
    let flow = try Self.flow()
    let result = try withNoGrad {
      try flow.trainingLoss(x1: io.tensor("x1"), x0: io.tensor("x0"), context: io.tensor("context"), t: io.tensor("t"))
    }
    for (name, ours) in [("xt", result.xt), ("ut", result.ut), ("vt", result.vt)] {
      let error = try ours.maxAbsDifference(io.tensor(name))
      #expect(error <= 1e-4, "\(name): \(error)")
    }
    let lossError = abs(try result.loss.item() - io.tensor("loss").item())
    #expect(lossError <= 1e-4, "loss: \(lossError)")
  }

  @Test func l1DistanceIsTheMeanAbsoluteVelocityError() throws {
    let io = try SafeTensorsFile(path: Shared.golden("flow_a.io.safetensors"))
    let flow = try Self.flow()
    let result = try withNoGrad {
      try flow.trainingLoss(x1: io.tensor("x1"), x0: io.tensor("x0"), context: io.tensor("context"), t: io.tensor("t"), distance: .l1)
    }
    let expected = try (io.tensor("vt") - io.tensor("ut")).abs().mean().item()
    #expect(abs(try result.loss.item() - expected) <= 1e-5)
    // Not the MSE: on the fixture the two differ by far more than the tolerance.
    #expect(abs(expected - (try io.tensor("loss").item())) > 1e-3)
  }

  @Test(arguments: [("sol.euler_5", ODEMethod.euler, 5), ("sol.midpoint_5", .midpoint, 5), ("sol.rk4_5", .rk4, 5), ("sol.euler_40", .euler, 40)])
  func fixedGridSolutionsMatchTorchdiffeq(_ key: String, _ method: ODEMethod, _ points: Int) throws {
    let io = try SafeTensorsFile(path: Shared.golden("flow_a.io.safetensors"))
    let flow = try Self.flow()
    let context = try io.tensor("context")
    let solution = try withNoGrad {
      try flow.sample(from: io.tensor("x0"), context: context, FlowSampling(method: method, steps: points - 1))
    }
    let error = try solution.final.maxAbsDifference(io.tensor(key))
    print("\(key): max abs error \(error), \(solution.evaluations) evaluations")
    #expect(error <= 1e-4)
    #expect(solution.evaluations == (points - 1) * method.evaluationsPerStep)
  }

  @Test func throwingFromOnStepCancelsSampling() throws {
    struct Cancelled: Error {}
    let io = try SafeTensorsFile(path: Shared.golden("flow_a.io.safetensors"))
    let flow = try Self.flow()
    var reported: [Int] = []
    #expect(throws: Cancelled.self) {
      try withNoGrad {
        try flow.sample(from: io.tensor("x0"), context: io.tensor("context"), FlowSampling(method: .euler, steps: 10)) { done, total in
          reported.append(done)
          if done == 3 { throw Cancelled() }
        }
      }
    }
    #expect(reported == [1, 2, 3])
  }

  @Test func adaptiveDopri5MatchesTorchdiffeq() throws {
    let io = try SafeTensorsFile(path: Shared.golden("flow_a.io.safetensors"))
    let flow = try Self.flow()
    let context = try io.tensor("context")
    let solution = try withNoGrad {
      try flow.sample(from: io.tensor("x0"), context: context, FlowSampling(method: .dopri5, steps: 1, atol: 1e-3, rtol: 1e-3))
    }
    let error = try solution.final.maxAbsDifference(io.tensor("sol.dopri5_tol1e-3"))
    print("sol.dopri5_tol1e-3: max abs error \(error), \(solution.evaluations) evaluations, \(solution.acceptedSteps) accepted, \(solution.rejectedSteps) rejected")
    #expect(error <= 5e-3)
  }

  @Test func noiseAugmentationTableMatchesTheReference() throws {
    let diffusion = ForwardDiffusion()
    let reference = try SafeTensorsFile(path: Shared.golden("schedules.safetensors")).tensor("alpha_bar").toArray(Float.self)
    #expect(diffusion.alphaBar.count == 1000)
    let worst = zip(diffusion.alphaBar, reference).map { abs($0 - $1) }.max()!
    #expect(worst <= 1e-7, "worst \(worst)")
    #expect(diffusion.alphaBar[400] == 0.6539039611816406)
    let x = try Tensor.ones([4]), noise = try Tensor.zeros([4])
    let noised = try diffusion.qSample(x, step: 400, noise: noise).toArray(Float.self)
    #expect(abs(noised[0] - 0.8086433) < 1e-6)
    #expect(throws: TorchError.self) { try diffusion.qSample(x, step: 1000) }
  }

  @Test func gvpPathHasTheRightEnds() throws {
    let x0 = try Tensor.full([1, 2], 3), x1 = try Tensor.full([1, 2], 5)
    #expect(try ProbabilityPath.gvp.interpolate(x0: x0, x1: x1, t: Tensor([0] as [Float])).toArray(Float.self) == [3, 3])
    #expect(abs(try ProbabilityPath.gvp.interpolate(x0: x0, x1: x1, t: Tensor([1] as [Float])).max().item() - 5) < 1e-6)
    let u = try ProbabilityPath.gvp.velocity(x0: x0, x1: x1, t: Tensor([0] as [Float])).toArray(Float.self)
    #expect(abs(u[0] - Float.pi / 2 * 5) < 1e-5)
  }
}

/// Orders of convergence on dy/dt = cos(t)·y, y(0) = 1, whose solution is exp(sin t).
@Suite struct SolverOrderTests {
  static func error(_ method: ODEMethod, steps: Int) throws -> Double {
    let f: VectorField = { t, y in try y * cos(t) }
    let y0 = try Tensor([1.0] as [Double])
    let exact = exp(sin(2.0))
    let final: Tensor
    if method == .dopri5 {
      final = try dopri5FixedSteps(f, y0: y0, from: 0, to: 2, steps: steps)
    } else {
      let grid = (0...steps).map { 2 * Double($0) / Double(steps) }
      final = try odeint(f, y0: y0, grid: grid, method: method).final
    }
    return abs(try final.item() - exact)
  }

  @Test(arguments: [(ODEMethod.euler, 1.0), (.midpoint, 2.0), (.heun, 2.0), (.rk4, 4.0), (.rk4Classic, 4.0), (.dopri5, 5.0)])
  func measuredOrderIsTheMethodsOrder(_ method: ODEMethod, _ order: Double) throws {
    let coarse = try Self.error(method, steps: 32), fine = try Self.error(method, steps: 64)
    let slope = log2(coarse / fine)
    print("\(method.rawValue): error \(coarse) at 32 steps, \(fine) at 64, measured order \(String(format: "%.2f", slope))")
    #expect(abs(slope - order) < 0.35)
  }

  @Test func adaptiveDopri5MeetsItsTolerance() throws {
    let f: VectorField = { t, y in try y * cos(t) }
    let solution = try odeint(f, y0: Tensor([1.0] as [Double]), grid: [0, 1, 2], method: .dopri5, atol: 1e-8, rtol: 1e-8, keepTrajectory: true)
    #expect(abs(try solution.trajectory[1].item() - exp(sin(1.0))) < 1e-6)
    #expect(abs(try solution.final.item() - exp(sin(2.0))) < 1e-6)
    #expect(solution.evaluations > 10)
  }
}
