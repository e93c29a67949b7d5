#if canImport(Glibc)
  import Glibc
#endif

/// OpenBLAS picks its matrix kernels from the CPU model it reads at load time, and on virtual
/// machines that report a generic model it falls back to its oldest x86-64 kernels ("Prescott",
/// SSE3): measured on a 2-core AVX-512 Xeon VM, one guided SD1.5 UNet evaluation took 26 s with
/// them and 10 s with the SkylakeX kernels (attention and linear layers are BLAS products; the
/// convolutions are oneDNN's, which detects the CPU itself). `matchCPU` switches a dynamic-arch
/// OpenBLAS to the kernels of the CPU's instruction sets, through its own initialiser.
public enum BLASCore {
  /// The kernel set the loaded OpenBLAS uses ("Prescott", "SkylakeX", ...), nil without OpenBLAS.
  public static var loaded: String? {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_get_corename") else { return nil }
    typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
    return unsafeBitCast(symbol, to: CoreName.self)().map { String(cString: $0) }
  }

  /// The best `OPENBLAS_CORETYPE` for this CPU's instruction sets (Linux `/proc/cpuinfo` flags).
  public static func best(cpuFlags: Set<String>) -> String? {
    if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) { return "SkylakeX" }
    if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
    return nil
  }

  /// A kernel set's instruction-set level: 2 AVX-512, 1 AVX2, 0 older or unknown names.
  public static func level(_ core: String) -> Int {
    switch core.lowercased() {
    case "skylakex", "cooperlake", "sapphirerapids": 2
    case "haswell", "zen", "excavator": 1
    default: 0
    }
  }

  /// The core type to force: `best` when the loaded kernels are of a lower level, else nil.
  public static func upgrade(loaded: String, cpuFlags: Set<String>) -> String? {
    guard let target = best(cpuFlags: cpuFlags), level(target) > level(loaded) else { return nil }
    return target
  }

  public static var cpuFlags: Set<String> {
    guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
      let text = String(cString: line)
      if text.hasPrefix("flags") { return Set(text.split(separator: ":").last?.split(separator: " ").map(String.init) ?? []) }
    }
    return []
  }

  /// The kernels OpenBLAS had chosen itself, when `matchCPU` replaced them.
  public nonisolated(unsafe) private(set) static var replaced: String?

  /// Switches the loaded OpenBLAS to `best`'s kernels when it runs weaker ones, unless the user chose
  /// (`OPENBLAS_CORETYPE`, or `FMBOOST_KEEP_BLAS=1`). OpenBLAS reads `OPENBLAS_CORETYPE` only in
  /// `gotoblas_dynamic_init`, so it is set for that call and cleared again. `Runtime` calls this
  /// once, before the first tensor is made.
  static func matchCPU() {
    let choices: [String] = ["OPENBLAS_CORETYPE", "GOTOBLAS_CORETYPE", "FMBOOST_KEEP_BLAS"]
    guard choices.allSatisfy({ getenv($0) == nil }),
      let loaded, let target = upgrade(loaded: loaded, cpuFlags: cpuFlags),
      let quit = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit"),
      let initialise = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init")
    else { return }
    typealias Call = @convention(c) () -> Void
    setenv("OPENBLAS_CORETYPE", target, 1)
    unsafeBitCast(quit, to: Call.self)()
    unsafeBitCast(initialise, to: Call.self)()
    unsetenv("OPENBLAS_CORETYPE")
    if let now = Self.loaded, level(now) >= level(target) { replaced = loaded }
  }

  /// What `fmboost info` says: the kernels in use, and what they replaced.
  public static var description: String {
    Runtime.ensureConfigured()
    guard let loaded else { return "not OpenBLAS" }
    if let replaced { return "OpenBLAS, \(loaded) kernels (it chose \(replaced) for this CPU model; switched)" }
    return "OpenBLAS, \(loaded) kernels"
  }
}
