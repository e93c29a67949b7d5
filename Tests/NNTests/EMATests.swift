import Foundation
import NN
import TestSupport
import Testing
import Torch
import Checkpoint

/// Against ../shared/golden/ema.safetensors: EMA(beta 0.999, update_after_step 10, update_every 1,
/// power 3/4) over a Linear(3, 2), with the online weights of each step given.
@Suite struct EMATests {
  @Test func trajectoryMatchesTheReference() throws {
    let file = try SafeTensorsFile(path: Shared.golden("ema.safetensors"))
    let steps = Set(file.keys.compactMap { $0.split(separator: ".").first.map(String.init) }).count
    #expect(steps > 12)
    let online = try Linear(3, 2), shadow = try Linear(3, 2)
    func load(_ m: Module, _ prefix: String) throws {
      try m.load(stateDict: ["weight": file.tensor(prefix + ".weight"), "bias": file.tensor(prefix + ".bias")])
    }
    try load(online, "step0.online")
    let ema = try EMA(online: online, shadow: shadow, beta: 0.999, updateAfterStep: 10, updateEvery: 1, power: 0.75)
    var worst = 0.0
    for n in 0..<steps {
      try load(online, "step\(n).online")
      try ema.update()
      for name in ["weight", "bias"] {
        let ours = try #require(shadow.stateDict().first { $0.0 == name }?.1)
        worst = max(worst, try ours.maxAbsDifference(file.tensor("step\(n).ema.\(name)")))
      }
    }
    print("EMA trajectory over \(steps) updates: max abs error \(worst)")
    #expect(worst < 1e-6)
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
