import Foundation
import NN
import TestSupport
import Testing
import Torch
import Checkpoint

/// Against ../shared/golden/ema.safetensors: EMA(beta 0.999, update_after_step 10, update_every 1,
/// power 3/4) over a Linear(3, 2). The fixture holds snapshots at calls 0, 9, 10, 11, 30 and 59 but
/// not the online weights between them, so the calls up to 11 are replayed exactly (hard copies
/// through 10; call 11 initialises and averages a copy with itself); the averaging itself is
/// checked through the decay table of the spec.
@Suite struct EMATests {
  @Test func goldenSnapshotsUpToTheFirstAverage() throws {
    let file = try SafeTensorsFile(path: Shared.golden("ema.safetensors"))
    let online = try Linear(3, 2), shadow = try Linear(3, 2)
    func load(_ m: Module, _ prefix: String) throws {
      try m.load(stateDict: ["weight": file.tensor(prefix + ".weight"), "bias": file.tensor(prefix + ".bias")])
    }
    func shadowMatches(_ prefix: String) throws -> Double {
      try ["weight", "bias"].map { name in
        try #require(shadow.stateDict().first { $0.0 == name }?.1).maxAbsDifference(file.tensor("\(prefix).\(name)"))
      }.max()!
    }
    try load(online, "step0.online")
    let ema = try EMA(online: online, shadow: shadow, beta: 0.999, updateAfterStep: 10, updateEvery: 1, power: 0.75)
    var worst = 0.0
    for n in 0...11 {
      // Between snapshots the online weights are unknown; use the next snapshot's (copies make it exact).
      let snapshot = [0, 9, 10, 11].first { $0 >= n }!
      try load(online, "step\(snapshot).online")
      try ema.update()
      if [0, 9, 10, 11].contains(n) { worst = max(worst, try shadowMatches("step\(n).ema")) }
    }
    #expect(worst < 1e-7)
    #expect(ema.initted && ema.step == 12)
  }

  @Test func decayValuesAreTheSpecs() throws {
    let ema = try EMA(online: Linear(1, 1), shadow: Linear(1, 1))
    var decays: [Int: Double] = [:]
    for n in 0...2000 {
      try ema.update()
      if [1001, 1002, 1100, 2000].contains(n) { decays[n] = ema.currentDecay }
    }
    #expect(abs(decays[1001]! - 0.405396) < 1e-6)
    #expect(abs(decays[1002]! - 0.561309) < 1e-6)
    #expect(abs(decays[1100]! - 0.968612) < 1e-6)
    #expect(abs(decays[2000]! - 0.994381) < 1e-6)
  }
}
