import Torch

/// Where a network's tensors come from while it is built: fresh initial values (training), or the
/// tensors of a weight file (inference), each taken by its key as the module that owns it is built,
/// so nothing is allocated twice and no random values are drawn for weights that are then replaced.
///
/// Built from weights, every problem is collected (missing keys, shape mismatches) and `finish()`
/// adds the keys no module asked for and fails with the whole report.
public final class ParameterSource {
  public let device: Device
  let generator: Generator?
  /// nil for a fresh source; else the tensors not yet taken, loaded on demand.
  private var stored: [String: () throws -> Tensor]?
  private var report = StateDictReport()
  /// Every key a parameter was made for, to check that the built network holds them all.
  private var made: [String] = []

  /// Initial values as PyTorch's layers draw them (see `Initial`), from `generator` in build order.
  public static func fresh(device: Device = .cpu, generator: Generator? = nil) -> ParameterSource {
    ParameterSource(stored: nil, device: device, generator: generator)
  }

  /// The tensors of a weight file, by key, read when their module is built (and then released
  /// here, so a reader that loads lazily keeps one tensor at a time beyond the network's own),
  /// each placed on `device` as it is taken.
  public static func weights(_ tensors: [String: () throws -> Tensor], device: Device = .cpu) -> ParameterSource {
    ParameterSource(stored: tensors, device: device, generator: nil)
  }

  /// A state_dict already in memory; on the CPU the network takes its tensors themselves, without
  /// a copy (`load(stateDict:)` copies, for a network that must not share them).
  public static func weights(_ stateDict: [String: Tensor], device: Device = .cpu) -> ParameterSource {
    weights(stateDict.mapValues { tensor in { tensor } }, device: device)
  }

  private init(stored: [String: () throws -> Tensor]?, device: Device, generator: Generator?) {
    self.stored = stored
    self.device = device
    self.generator = generator
  }

  public var isFresh: Bool { stored == nil }

  /// The scope of the network's root module (keys without a prefix).
  public var root: ModuleScope { ModuleScope(source: self, name: "", path: "", parent: nil) }

  /// The report of a build from weights, with the keys no module took as unexpected; with
  /// `strict`, any problem throws `StateDictError` listing all of them.
  ///
  /// `built`: the network; a parameter made in a scope that no module adopted (an intermediate
  /// scope with no module of its own: use a dotted name instead) is a programming error, named.
  @discardableResult
  public func finish(_ built: Module, strict: Bool = true) throws -> StateDictReport {
    let held = Set(built.namedSlots().map(\.0))
    let orphans = made.filter { !held.contains($0) }
    guard orphans.isEmpty else {
      throw TorchError.invalidArgument("parameters made outside the network's module tree: \(orphans.prefix(5).joined(separator: ", "))")
    }
    var result = report
    result.unexpected = (stored?.keys).map { $0.sorted() } ?? []
    if strict && !result.isClean { throw StateDictError(report: result) }
    return result
  }

  /// The tensor for `key`: drawn fresh, or taken from the weights (float values converted to
  /// float32, the networks' precision). A missing or mismatched one is reported and stands in as
  /// a `.meta` tensor, so the build goes on and `finish()` lists every problem at once.
  func tensor(_ key: String, shape: [Int], initial: Initial) throws -> Tensor {
    made.append(key)
    guard stored != nil else { return try initial.make(shape, device: device, generator: generator) }
    guard let load = stored!.removeValue(forKey: key) else {
      report.missing.append(key)
      return try Tensor.empty(shape, device: .meta)
    }
    let loaded = try load()
    let tensor = loaded.device == device ? loaded : try loaded.to(device)
    guard tensor.shape == shape else {
      report.mismatched.append(.init(key: key, expected: shape, found: tensor.shape))
      return try Tensor.empty(shape, device: .meta)
    }
    return tensor.dtype.isFloatingPoint && tensor.dtype != .float32 ? try tensor.to(.float32) : tensor
  }
}

/// How a fresh parameter starts.
public enum Initial: Sendable {
  /// PyTorch's default for convolution and linear layers: Kaiming-uniform with a = √5 for the
  /// weight and the same bound for the bias, U(−1/√fan_in, 1/√fan_in).
  case uniform(fanIn: Int)
  case ones
  case zeros
  /// N(0, 1), as `nn.Embedding`.
  case normal

  func make(_ shape: [Int], device: Device, generator: Generator?) throws -> Tensor {
    switch self {
    case .ones: return try Tensor.ones(shape, device: device)
    case .zeros: return try Tensor.zeros(shape, device: device)
    case .normal:
      let w = try Tensor.empty(shape, device: device)
      if device != .meta { try w.normal_(generator: generator) }
      return w
    case .uniform(let fanIn):
      let w = try Tensor.empty(shape, device: device)
      if device != .meta {
        let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
        try w.uniform_(-bound, bound, generator: generator)
      }
      return w
    }
  }
}

/// The place of one module in the network being built: its key, and the parameters and children
/// created under it, which the module adopts when its `Module.init(_:)` runs (and it joins its
/// parent's children the same way). A child's key is said once, where the child is built:
/// `Conv2d(p["conv_in"], ...)`; a dotted name (`p["out_layers.3"]`) places it deeper.
public final class ModuleScope {
  public let source: ParameterSource
  let name: String
  let path: String
  /// Weak: a scope holds its child scopes (and, through them, every module built), so a strong
  /// reference back would keep a whole network alive after it is dropped. The parent outlives
  /// its children while the network is built (the caller holds the root).
  weak var parent: ModuleScope?
  var children: [(name: String, module: Module)] = []
  var parameters: [(name: String, parameter: Parameter)] = []
  private var scopes: [String: ModuleScope] = [:]

  init(source: ParameterSource, name: String, path: String, parent: ModuleScope?) {
    self.source = source
    self.name = name
    self.path = path
    self.parent = parent
  }

  /// The scope of the child module named `name` (the same one each time it is asked for).
  public subscript(_ name: String) -> ModuleScope {
    if let scope = scopes[name] { return scope }
    let scope = ModuleScope(source: source, name: name, path: path + name + ".", parent: self)
    scopes[name] = scope
    return scope
  }

  /// The scope of the child at `index` of a sequence or list.
  public subscript(_ index: Int) -> ModuleScope { self[String(index)] }

  /// The trainable parameter `name` of this module.
  public func parameter(_ name: String, shape: [Int], initial: Initial) throws -> Parameter {
    let p = try Parameter(source.tensor(path + name, shape: shape, initial: initial))
    parameters.append((name, p))
    return p
  }

  /// The persistent buffer `name` of this module.
  public func buffer(_ name: String, shape: [Int], initial: Initial) throws -> Parameter {
    let p = try Parameter(source.tensor(path + name, shape: shape, initial: initial), isBuffer: true)
    parameters.append((name, p))
    return p
  }

  /// Zeroes the module's parameters when they are fresh (the original's `zero_module`); weights
  /// taken from a file are kept.
  public func zeroInitialise(_ module: Module) throws {
    guard source.isFresh else { return }
    try withNoGrad {
      for (_, p) in module.namedSlots() where p.value.device != .meta { try p.value.zero_() }
    }
  }
}
