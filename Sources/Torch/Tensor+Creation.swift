import CTorch

extension Tensor {
  private static func dims(_ shape: [Int]) throws -> [Int64] {
    for d in shape where d < 0 {
      throw TorchError.invalidArgument("negative dimension \(d) in shape \(shape)")
    }
    return shape.map(Int64.init)
  }

  /// An uninitialised tensor (on `.meta` it has a shape and no storage).
  public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    Runtime.ensureConfigured()
    let d = try dims(shape)
    return try produce { ct_empty(d, Int32(d.count), dtype.rawValue, device.code, $0) }
  }

  public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    Runtime.ensureConfigured()
    let d = try dims(shape)
    return try produce { ct_full(d, Int32(d.count), value, dtype.rawValue, device.code, $0) }
  }

  public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try full(shape, 0, dtype: dtype, device: device)
  }

  public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try full(shape, 1, dtype: dtype, device: device)
  }

  /// Values start, start+step, ... below end (as `torch.arange`).
  public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    Runtime.ensureConfigured()
    return try produce { ct_arange(start, end, step, dtype.rawValue, $0) }.placed(on: device)
  }

  public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32) throws -> Tensor {
    Runtime.ensureConfigured()
    return try produce { ct_linspace(start, end, Int64(steps), dtype.rawValue, $0) }
  }

  /// Uniform samples in [0, 1), drawn on the CPU (the generators are CPU ones, so a seed gives the
  /// same numbers on every device) and placed on `device`.
  public static func rand(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil, device: Device = .cpu) throws -> Tensor {
    try random(kind: 0, shape, dtype: dtype, generator: generator).placed(on: device)
  }

  /// Standard normal samples, drawn on the CPU and placed on `device` (as `rand`).
  public static func randn(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil, device: Device = .cpu) throws -> Tensor {
    try random(kind: 1, shape, dtype: dtype, generator: generator).placed(on: device)
  }

  /// This tensor on the CPU, where it can be read and written to files; a meta tensor stays where
  /// it is (it has a shape and nothing to copy).
  public func toHost() throws -> Tensor { device == .meta ? self : try placed(on: .cpu) }

  /// This tensor on `device` (itself when it is there already).
  public func placed(on device: Device) throws -> Tensor { device == self.device ? self : try to(device) }

  private static func random(kind: Int32, _ shape: [Int], dtype: DType, generator: Generator?) throws -> Tensor {
    Runtime.ensureConfigured()
    let d = try dims(shape)
    return try withExtendedLifetime(generator) {
      try produce { ct_random(kind, d, Int32(d.count), dtype.rawValue, generator?.handle, $0) }
    }
  }

  /// Integers uniformly in [low, high), as int64.
  public static func randint(_ low: Int, _ high: Int, _ shape: [Int], generator: Generator? = nil) throws -> Tensor {
    Runtime.ensureConfigured()
    let d = try dims(shape)
    return try withExtendedLifetime(generator) {
      try produce { ct_randint(Int64(low), Int64(high), d, Int32(d.count), generator?.handle, $0) }
    }
  }

  /// A random permutation of 0..<n, as int64.
  public static func randperm(_ n: Int, generator: Generator? = nil) throws -> Tensor {
    Runtime.ensureConfigured()
    return try withExtendedLifetime(generator) { try produce { ct_randperm(Int64(n), generator?.handle, $0) } }
  }

  /// A tensor with the same shape and dtype filled with standard normal samples (`randn_like`).
  public func randnLike(generator: Generator? = nil) throws -> Tensor {
    try Tensor.randn(shape, dtype: dtype, generator: generator, device: device)
  }

  public func zerosLike() throws -> Tensor { try Tensor.zeros(shape, dtype: dtype, device: device) }
  public func onesLike() throws -> Tensor { try Tensor.ones(shape, dtype: dtype, device: device) }

  /// In place: uniform_(low, high).
  public func uniform_(_ low: Double, _ high: Double, generator: Generator? = nil) throws {
    try withExtendedLifetime(generator) { try check(ct_random_(handle, 0, low, high, generator?.handle)) }
  }

  /// In place: normal_(mean, std).
  public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws {
    try withExtendedLifetime(generator) { try check(ct_random_(handle, 1, mean, std, generator?.handle)) }
  }

  /// In place: bernoulli_(p) — each element becomes 1 with probability p.
  public func bernoulli_(_ p: Double, generator: Generator? = nil) throws {
    try withExtendedLifetime(generator) { try check(ct_random_(handle, 2, p, 0, generator?.handle)) }
  }
}
