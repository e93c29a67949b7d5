import FMBoost
import Foundation
import StableDiffusion
import Testing
import TestSupport

/// SD1.5's ᾱ and every `set_timesteps` table of `golden-sd/schedules.json` (diffusers 0.42: DDIM,
/// Euler and DPM-Solver++ for the three spacings, LCM; n ∈ {1, 2, 4, 8, 10, 20, 25, 50}).
@Suite struct NoiseScheduleTests {
  static func fixture() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: Shared.root + "/golden-sd/schedules.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  @Test func alphasCumprodMatchesDiffusers() throws {
    let spots = try #require(try Self.fixture()["alphas_cumprod"] as? [String: Double])
    let schedule = NoiseSchedule()
    #expect(spots.count == 7)
    for (t, value) in spots { #expect(abs(schedule.alphasCumprod[Int(t)!] - value) <= 1e-6 * value, "ᾱ_\(t)") }
  }

  @Test func everyTimestepAndSigmaTableMatchesDiffusers() throws {
    let tables = try #require(try Self.fixture()["tables"] as? [String: [String: [Double]]])
    #expect(tables.count == 80)
    let schedule = NoiseSchedule()
    let names: [String: NoiseSchedule.Scheduler] = ["DDIMScheduler": .ddim, "EulerDiscreteScheduler": .euler, "DPMSolverMultistepScheduler": .dpmSolver, "LCMScheduler": .lcm]
    for (name, table) in tables {
      let parts = name.split(separator: "/")
      let scheduler = try #require(names[String(parts[0])]), spacing = try #require(NoiseSchedule.Spacing(rawValue: String(parts[1])))
      let timesteps = schedule.timesteps(scheduler, steps: Int(parts[2])!, spacing: spacing)
      let expected = try #require(table["timesteps"])
      #expect(timesteps.count == expected.count && zip(timesteps, expected).allSatisfy { abs($0 - $1) <= 1e-4 }, "\(name): \(timesteps) vs \(expected)")
      if let sigmas = table["sigmas"] {
        let ours = schedule.sigmas(at: timesteps)
        #expect(ours.count == sigmas.count && zip(ours, sigmas).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, $1) }, "\(name) sigmas: \(ours) vs \(sigmas)")
      }
    }
  }
}
