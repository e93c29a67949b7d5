import Checkpoint
import FMBoost
import Foundation
import StableDiffusion
import Testing
import TestSupport
import Torch

/// The samplers golden-sd has no trajectory for (Euler ancestral, Karras σ, trailing
/// DPM-Solver++), against diffusers with a synthetic network, and the seeded initial noise against
/// `torch.manual_seed(S); torch.randn(...)` (`Tests/Fixtures/sd_samplers.safetensors`, made by
/// `make_sd_sampler_fixture.py` beside this file).
@Suite struct SamplerTrajectoryTests {
  static let fixture = Shared.fixture("sd_samplers.safetensors")

  /// The fixture's network: ε(x, t) = 0.5·sin(x) + 0.3·(t/1000)·x.
  static func eps(_ x: Tensor, _ t: Double) throws -> Tensor { try x.sin() * 0.5 + x * (0.3 * t / 1000) }

  static func run(_ name: String, _ sampler: any DiffusionSampler) throws {
    let f = try SafeTensorsFile(path: Self.fixture)
    let timesteps = try f.tensor("\(name).timesteps").toArray(Double.self)
    #expect(sampler.timesteps.count == timesteps.count && zip(sampler.timesteps, timesteps).allSatisfy { abs($0 - $1) <= 2e-3 },
            "\(name) timesteps \(sampler.timesteps) against \(timesteps)")
    #expect(abs(sampler.initNoiseSigma - (try f.tensor("\(name).init_noise_sigma").toArray(Double.self)[0])) < 1e-4)
    var sampler = sampler
    var x = try f.tensor("\(name).x_T")
    for i in timesteps.indices {
      let input = try sampler.modelInput(x, step: i)
      #expect(try input.maxAbsDifference(f.tensor("\(name).step\(i).model_input")) <= 1e-4, "\(name) step \(i) input")
      let e = try Self.eps(input, timesteps[i])
      x = try sampler.step(x, eps: e, step: i, noise: { try f.tensor("\(name).step\(i).noise") }).prev
      let reference = try f.tensor("\(name).step\(i).prev_sample")
      let error = try x.maxAbsDifference(reference), scale = try reference.abs().max().item()
      #expect(error <= 1e-4 * max(1, scale), "\(name) step \(i): \(error) at scale \(scale)")
    }
    print(String(format: "%@: %d steps, final max abs error %.2e", name, timesteps.count, try x.maxAbsDifference(f.tensor("\(name).step\(timesteps.count - 1).prev_sample"))))
  }

  @Test func eulerAncestralMatchesDiffusers() throws { try Self.run("euler_a", SamplerKind.eulerAncestral.make(steps: 8)) }
  @Test func eulerWithKarrasSigmasMatchesDiffusers() throws { try Self.run("euler_karras", SamplerKind.euler.make(steps: 8, karras: true)) }
  @Test func dpmSolverWithKarrasSigmasMatchesDiffusers() throws { try Self.run("dpmpp_karras", SamplerKind.dpmSolver.make(steps: 8, karras: true)) }
  @Test func dpmSolverWithTrailingSpacingMatchesDiffusers() throws {
    try Self.run("dpmpp_trailing", SamplerKind.dpmSolver.make(steps: 6, spacing: .trailing))
  }

  @Test func karrasAppliesOnlyWhereDiffusersHasIt() throws {
    #expect(throws: TorchError.self) { try SamplerKind.lcm.make(steps: 4, karras: true) }
    #expect(throws: TorchError.self) { try SamplerKind.ddim.make(steps: 0) }
  }

  /// A seed means the same initial noise as in PyTorch (and so diffusers) on the CPU.
  @Test func seededNoiseEqualsTorchRandn() throws {
    let f = try SafeTensorsFile(path: Self.fixture)
    let keys = f.keys.filter { $0.hasPrefix("randn.") }
    #expect(keys.count == 5)
    for key in keys {
      let parts = key.split(separator: ".")
      let seed = try #require(UInt64(parts[1])), shape = parts[2].split(separator: "x").map { Int($0)! }
      let ours = try Tensor.randn(shape, generator: Generator(seed: seed))
      let error = try ours.maxAbsDifference(f.tensor(key))
      #expect(error <= 1e-6, "\(key): \(error)")
    }
  }
}
