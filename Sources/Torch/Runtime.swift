import CTorch

#if canImport(Glibc)
  import Glibc
#endif

/// Process-wide libtorch settings: thread counts and build information.
public enum Runtime {
  /// The environment variable that overrides the intra-op thread count.
  public static let threadsVariable = "FMBOOST_THREADS"

  /// Set to 1 to leave libtorch's CPU allocator and glibc's malloc at their defaults.
  public static let systemAllocatorVariable = "FMBOOST_SYSTEM_MALLOC"

  /// Whether the caching allocator (large blocks kept for reuse, huge pages) is in use.
  public static let cachesLargeBlocks = getenv(systemAllocatorVariable).map({ String(cString: $0) }) != "1"

  /// MiB above which an inference conv2d input is convolved in bands (`convolutionBandThreshold`); 0 turns it off.
  public static let convolutionBandVariable = "FMBOOST_CONV_BANDS"

  /// Output pixels per image from which an inference 3x3 conv2d runs by Winograd (`winogradMinimumPixels`); 0 turns it off.
  public static let winogradVariable = "FMBOOST_WINOGRAD"

  /// Set to 0 to compute CUDA convolutions and matrix products in full float32 (no TF32), for parity checks.
  public static let tf32Variable = "FMBOOST_TF32"

  private static let configuration: Void = {
    // Large activations would otherwise be mapped and unmapped, or faulted in afresh, on every
    // use: measured on the paper-config upsample, a third of the CPU time, spent in the kernel.
    if cachesLargeBlocks {
      ct_keep_freed_memory()
      ct_use_caching_allocator()
    }
    BLASCore.matchCPU()
    if let tf32 = getenv(tf32Variable).map({ String(cString: $0) }) { ct_set_allow_tf32(tf32 != "0") }
    if let mebibytes = getenv(convolutionBandVariable).flatMap({ Int(String(cString: $0)) }) {
      ct_set_conv_band_threshold(Int64(max(0, mebibytes)) << 20)
    }
    if let pixels = getenv(winogradVariable).flatMap({ Int(String(cString: $0)) }) {
      ct_set_winograd_min_pixels(Int64(max(0, pixels)))
    }
    // Some libtorch builds start with one intra-op thread; use every core unless told otherwise.
    let requested = getenv(threadsVariable).flatMap { Int(String(cString: $0)) }
    ct_set_num_threads(Int32(clamping: max(1, requested ?? coreCount)))
    // After the thread pools exist, so that this handler runs before their destructors.
    ct_skip_teardown_at_exit()
  }()

  /// Applies the default thread configuration once; every tensor-creating call does this first.
  @inline(__always)
  public static func ensureConfigured() { _ = configuration }

  /// Returns the freed memory the allocator keeps (see above) to the system, after a large
  /// network is dropped, so the next stage does not stack on top of it in the resident set.
  public static func releaseFreedMemory() {
    ct_release_cached_blocks()
    ct_release_freed_memory()
  }

  /// The caching allocator's counters for large blocks (all zero when it is not in use).
  public struct AllocatorStatistics: Sendable {
    public let hits, maps, liveBytes, cachedBytes, highWaterBytes, mappedTotalBytes: Int
    /// Large blocks mapped now: live and cached.
    public var mappedBytes: Int { liveBytes + cachedBytes }
  }

  public static var allocatorStatistics: AllocatorStatistics {
    ensureConfigured()
    let s = ct_get_allocator_stats()
    return AllocatorStatistics(
      hits: Int(s.hits), maps: Int(s.maps), liveBytes: Int(s.live_bytes), cachedBytes: Int(s.cached_bytes),
      highWaterBytes: Int(s.high_water_bytes), mappedTotalBytes: Int(s.mapped_total_bytes))
  }

  /// Online CPU cores.
  public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// libtorch's intra-op thread count.
  public static var threads: Int {
    get {
      ensureConfigured()
      return Int(ct_get_num_threads())
    }
    set {
      ensureConfigured()
      ct_set_num_threads(Int32(clamping: max(1, newValue)))
    }
  }

  /// `conv2d` inputs larger than this many bytes are convolved, when no gradient is recorded, in
  /// bands of output rows that each read about an eighth of that many bytes, so oneDNN's blocked
  /// copies of the input and output stay band-sized (shim_conv_banded.cpp); 0 turns banding off.
  /// Default 256 MiB, or `FMBOOST_CONV_BANDS` MiB.
  public static var convolutionBandThreshold: Int {
    get {
      ensureConfigured()
      return Int(ct_conv_band_threshold())
    }
    set {
      ensureConfigured()
      ct_set_conv_band_threshold(Int64(max(0, newValue)))
    }
  }

  /// Inference 3x3 stride-1 `conv2d`s (multiples of 16 channels in and out, no groups) whose output has at least
  /// this many pixels per image run by oneDNN's Winograd kernel where the CPU has one (AVX-512;
  /// F(4x4, 3x3) or F(2x2, 3x3) by oneDNN's choice): 2.4-3.2x faster than libtorch's direct kernel, within a few float32 roundings of it
  /// (shim_conv_winograd.cpp). 0 turns it off. Default 128 x 128, or `FMBOOST_WINOGRAD` pixels.
  public static var winogradMinimumPixels: Int {
    get {
      ensureConfigured()
      return Int(ct_winograd_min_pixels())
    }
    set {
      ensureConfigured()
      ct_set_winograd_min_pixels(Int64(max(0, newValue)))
    }
  }

  /// Whether this build (libdnnl-dev at build time) and this CPU have oneDNN's Winograd kernel.
  public static var winogradAvailable: Bool { ct_winograd_available() != 0 }

  /// How many convolutions have run by Winograd in this process.
  public static var winogradConvolutions: Int { Int(ct_winograd_calls()) }

  /// The bytes one Winograd band's buffers may take together (its input rows, oneDNN's blocked
  /// copies, scratchpad and weights, the output band), from the sizes oneDNN reports for the
  /// implementation it chose on this CPU: the band's rows follow. Default 32 MiB.
  public static var winogradWorkspaceBudget: Int {
    get { Int(ct_winograd_workspace_budget()) }
    set { ct_set_winograd_workspace_budget(Int64(max(1 << 20, newValue))) }
  }

  /// The bytes the last Winograd convolution's band buffers took (at most the budget, unless a band
  /// of the smallest height, 4 rows, needs more).
  public static var lastWinogradWorkspace: Int { Int(ct_winograd_last_workspace()) }

  /// What `fmboost info` prints about the libtorch build.
  public struct BuildInfo: Sendable {
    public let version: String
    public let configuration: String
    public let parallelism: String
    public let cpuCapability: String

    /// Whether the build uses oneDNN (MKL-DNN) and which BLAS it reports.
    public var usesOneDNN: Bool { configuration.contains("USE_MKLDNN=ON") || configuration.contains("MKL-DNN") }
    public var blas: String {
      let key = "BLAS_INFO="
      for item in configuration.split(whereSeparator: { $0 == "\n" || $0 == "," }) {
        if let range = item.firstRange(of: key) { return String(item[range.upperBound...]) }
      }
      return "unknown"
    }
  }

  public static func buildInfo() throws -> BuildInfo {
    ensureConfigured()
    var version: UnsafeMutablePointer<CChar>?, config: UnsafeMutablePointer<CChar>?
    var parallel: UnsafeMutablePointer<CChar>?, capability: UnsafeMutablePointer<CChar>?
    try check(ct_runtime_info(&version, &config, &parallel, &capability))
    defer { [version, config, parallel, capability].forEach { ct_free_string($0) } }
    func text(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
    return BuildInfo(
      version: text(version), configuration: text(config), parallelism: text(parallel), cpuCapability: text(capability))
  }

  /// Whether large 3×3 convolutions take oneDNN's Winograd kernel here, in words (`fmboost info`).
  public static var winogradDescription: String {
    guard winogradAvailable else { return "no (needs oneDNN's AVX-512 kernel and libdnnl-dev at build time)" }
    let pixels = winogradMinimumPixels
    return pixels == 0 ? "off (\(winogradVariable)=0)" : "yes, from \(pixels) output pixels per image"
  }
}
