import Testing
import Torch

@Suite struct BLASCoreTests {
  static let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]
  static let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]

  @Test func weakerKernelsAreUpgradedToTheCPUsLevel() {
    #expect(BLASCore.upgrade(loaded: "Prescott", cpuFlags: Self.avx512) == "SkylakeX")
    #expect(BLASCore.upgrade(loaded: "Haswell", cpuFlags: Self.avx512) == "SkylakeX")
    #expect(BLASCore.upgrade(loaded: "Prescott", cpuFlags: Self.avx2) == "Haswell")
    #expect(BLASCore.upgrade(loaded: "Nehalem", cpuFlags: Self.avx2) == "Haswell")
  }

  @Test func kernelsAtOrAboveTheCPUsLevelAreKept() {
    #expect(BLASCore.upgrade(loaded: "SkylakeX", cpuFlags: Self.avx512) == nil)
    #expect(BLASCore.upgrade(loaded: "Cooperlake", cpuFlags: Self.avx512) == nil)
    #expect(BLASCore.upgrade(loaded: "Zen", cpuFlags: Self.avx2) == nil)
    // AVX-512 without the BW/VL/DQ subsets that SkylakeX's kernels use (Knights Landing).
    #expect(BLASCore.upgrade(loaded: "Haswell", cpuFlags: Self.avx2.union(["avx512f", "avx512cd"])) == nil)
    #expect(BLASCore.upgrade(loaded: "Prescott", cpuFlags: ["sse3", "ssse3"]) == nil)
  }

  /// After the runtime's set-up the loaded OpenBLAS runs kernels at this CPU's level, whatever it
  /// detected (here, a VM's generic model made it choose Prescott).
  @Test func theRuntimeSwitchesOpenBLASToTheCPUsKernels() throws {
    Runtime.ensureConfigured()
    guard let loaded = BLASCore.loaded else { return }  // another BLAS: nothing to switch
    let best = BLASCore.best(cpuFlags: BLASCore.cpuFlags).map(BLASCore.level) ?? 0
    #expect(BLASCore.level(loaded) >= best, "OpenBLAS runs \(loaded) kernels")
  }
}
