import Foundation
import NN
import TestSupport
import Testing
import Torch
import Checkpoint

/// Against ../shared/golden/ema.safetensors: EMA(beta 0.999, update_after_step 10, update_every 1,
/// power 3/4) over a Linear(3, 2). The fixture holds snapshots at calls 0, 9, 10, 11, 30 and 59 but
/// not the online weights between them, so the calls up to 11 are replayed exactly (hard copies
/// through 10; call 11 initialises and averages a copy with itself). The averaging itself is
/// checked by the replays below: known online weights at every call, each shadow compared with
/// decay·shadow + (1 − decay)·online, the decay written out from the spec.
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

  /// The options of one EMA, and the spec's decay (6.6) written out independently of `EMA`.
  struct Scenario {
    var beta = 0.999
    var updateAfterStep = 0
    var updateEvery = 1
    var power = 0.75
    var invGamma = 1.0
    var minValue = 0.0

    /// decay for the call whose counter is n before it: e = step − update_after_step − 1 with
    /// step = n + 1; 0 when e ≤ 0, else clamp(1 − (1 + e/inv_gamma)^(−power), min_value, beta).
    func decay(_ n: Int) -> Double {
      let e = Double(n + 1 - updateAfterStep - 1)
      if e <= 0 { return 0 }
      return min(max(1 - pow(1 + e / invGamma, -power), minValue), beta)
    }
  }

  /// Online weights (Linear(3, 2): 6 weights then 2 biases) for the call with counter n: in
  /// [-1, 1] and different at every call, so a copy, a skipped call and a blend all differ.
  static func onlineValues(_ n: Int) -> [Float] {
    (0..<8).map { i in Float(sin(Double(n) * 1.7 + Double(i) * 0.9)) }
  }

  static func set(_ m: Linear, _ v: [Float]) throws {
    try m.load(stateDict: ["weight": Tensor(Array(v[0..<6]), shape: [2, 3]), "bias": Tensor(Array(v[6..<8]), shape: [2])])
  }

  static func values(_ m: Linear) throws -> [Double] {
    try (m.weight.value.toArray(Float.self) + m.bias!.value.toArray(Float.self)).map { Double($0) }
  }

  /// Replays `calls` updates with new online weights before each, checking every call's shadow
  /// against the spec's rule from the shadow just before it; returns the decay of each blend by n.
  static func replay(_ s: Scenario, calls: Int) throws -> [Int: Double] {
    let online = try Linear(3, 2), shadow = try Linear(3, 2)
    try set(online, onlineValues(0))
    try set(shadow, Array(repeating: 5, count: 8))  // distinct from anything online holds
    let ema = try EMA(online: online, shadow: shadow, beta: s.beta, updateAfterStep: s.updateAfterStep,
                      updateEvery: s.updateEvery, power: s.power, invGamma: s.invGamma, minValue: s.minValue)
    let shadow0 = try values(shadow), online0 = try values(online)
    #expect(shadow0 == online0, "construction copies online to shadow")
    var initted = false
    var blends: [Int: Double] = [:]
    for n in 0..<calls {
      try set(online, onlineValues(n + 1))
      let before = try values(shadow), o = try values(online)
      try ema.update()
      let after = try values(shadow)
      let expected: [Double]
      if n % s.updateEvery != 0 {
        expected = before  // skipped
        #expect(zip(before, o).map { abs($0 - $1) }.max()! > 1e-2, "call \(n): a copy would look like a skip")
      } else if n <= s.updateAfterStep || !initted {
        // Hard copy; the first call past update_after_step copies, then averages the copy with itself.
        if n > s.updateAfterStep { initted = true }
        expected = o
      } else {
        let d = s.decay(n)
        blends[n] = d
        expected = zip(before, o).map { d * $0 + (1 - d) * $1 }
        // The data tell a blend from a copy and from a skip.
        #expect(zip(expected, o).map { abs($0 - $1) }.max()! > 1e-2, "call \(n)")
        #expect(zip(expected, before).map { abs($0 - $1) }.max()! > 1e-2, "call \(n)")
        #expect(abs(ema.currentDecay - d) < 1e-12, "call \(n): EMA.currentDecay \(ema.currentDecay), spec \(d)")
      }
      let error = zip(after, expected).map { abs($0 - $1) }.max()!
      #expect(error <= 1e-6, "call \(n): shadow is \(error) from the spec's rule")
    }
    #expect(ema.step == calls)
    #expect(ema.initted == initted)
    return blends
  }

  /// Past update_after_step with update_every 1: the min_value floor, the formula with
  /// inv_gamma 2 and the beta cap all reached within a few calls.
  @Test func averagingBlendsWithTheSpecsDecay() throws {
    let s = Scenario(beta: 0.6, updateAfterStep: 3, updateEvery: 1, power: 0.75, invGamma: 2, minValue: 0.45)
    let blends = try Self.replay(s, calls: 11)
    // Calls 0...3 copy, call 4 initialises; calls 5...10 blend (e = n − 3).
    #expect(blends.keys.sorted() == Array(5...10))
    let table: [Int: Double] = [5: 0.45, 6: 0.497027, 7: 0.561309, 8: 0.6, 9: 0.6, 10: 0.6]
    for (n, d) in table {
      let decay = try #require(blends[n])
      #expect(abs(decay - d) < 1e-6, "decay at call \(n): \(decay), table \(d)")
    }
  }

  /// update_every 3: only calls with n divisible by 3 act, and the decay still counts every call
  /// (e = n − update_after_step, not the number of averages).
  @Test func averagingWithUpdateEverySkipsCalls() throws {
    let s = Scenario(updateAfterStep: 2, updateEvery: 3)
    let blends = try Self.replay(s, calls: 14)
    // Call 0 copies, call 3 initialises, calls 6, 9 and 12 blend; the others are skipped.
    #expect(blends.keys.sorted() == [6, 9, 12])
    let table: [Int: Double] = [6: 0.700930, 9: 0.789776, 12: 0.834440]
    for (n, d) in table {
      let decay = try #require(blends[n])
      #expect(abs(decay - d) < 1e-6, "decay at call \(n): \(decay), table \(d)")
    }
  }
}
