import Torch

/// The base of every network: named children and parameters whose dotted paths are the PyTorch
/// state_dict keys (`input_blocks.1.0.in_layers.0.weight`). Sequential children are named by
/// their index.
open class Module {
  public private(set) var children: [(name: String, module: Module)] = []
  public private(set) var ownParameters: [(name: String, parameter: Parameter)] = []
  /// Training mode (dropout active); `eval()` turns it off recursively.
  public private(set) var isTraining = true

  /// A module without parameters or children (activations, dropout).
  public init() {}

  /// Adopts the parameters and children built in `scope`, and joins the parent scope's children
  /// under the scope's name: call it last in a subclass's init, after building from `scope`.
  public init(_ scope: ModuleScope) {
    ownParameters = scope.parameters
    // A sequence's items keep their index order whatever order they were built in.
    let indices = scope.children.compactMap { Int($0.name) }
    children = indices.count == scope.children.count && !indices.isEmpty
      ? scope.children.sorted { Int($0.name)! < Int($1.name)! } : scope.children
    scope.parent?.children.append((scope.name, self))
  }

  /// Registers an already built module as the child `name` (composing networks built apart).
  @discardableResult
  public func register<M: Module>(_ name: String, _ module: M) -> M {
    children.append((name, module))
    return module
  }

  /// Registers a parameter (or buffer) slot under `name`.
  public func register(_ name: String, _ parameter: Parameter) {
    ownParameters.append((name, parameter))
  }

  /// Registers a new parameter holding `tensor` and returns its slot.
  public func parameter(_ name: String, _ tensor: Tensor) throws -> Parameter {
    let p = try Parameter(tensor)
    register(name, p)
    return p
  }

  /// Registers a persistent buffer holding `tensor` and returns its slot.
  public func buffer(_ name: String, _ tensor: Tensor) throws -> Parameter {
    let p = try Parameter(tensor, isBuffer: true)
    register(name, p)
    return p
  }

  /// Every parameter and buffer slot with its full dotted path, in registration order.
  public func namedSlots(prefix: String = "") -> [(String, Parameter)] {
    var result = ownParameters.map { (prefix + $0.name, $0.parameter) }
    for (name, child) in children {
      result += child.namedSlots(prefix: prefix + name + ".")
    }
    return result
  }

  /// Trainable parameters with their paths (buffers excluded).
  public func namedParameters() -> [(String, Parameter)] {
    namedSlots().filter { !$0.1.isBuffer }
  }

  public func parameters() -> [Tensor] { namedParameters().map(\.1.value) }

  /// The total number of trainable parameter elements.
  public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.value.elementCount } }

  /// Where the parameters live (the CPU for a module without any).
  public var device: Device { firstSlot?.value.device ?? .cpu }

  /// The first parameter or buffer in registration order, found without listing the others.
  private var firstSlot: Parameter? { ownParameters.first?.parameter ?? children.lazy.compactMap(\.module.firstSlot).first }

  /// Every module of the tree with its path ("" for self).
  public func namedModules(prefix: String = "") -> [(String, Module)] {
    var result: [(String, Module)] = [(prefix, self)]
    for (name, child) in children {
      result += child.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
    }
    return result
  }

  /// Sets training mode on this module and all its children.
  public func train(_ on: Bool = true) {
    isTraining = on
    for (_, child) in children { child.train(on) }
  }

  public func eval() { train(false) }

  /// Moves every parameter and buffer to `device` (a network built on the CPU, or one to hand over).
  public func move(to device: Device) throws {
    for (_, slot) in namedSlots() where slot.value.device != device {
      let moved = try slot.value.detach().to(device)  // a leaf there, not a copy that differentiates back
      if slot.value.requiresGrad { _ = try moved.requiresGrad(true) }
      slot.value = moved
    }
  }

  /// Drops every gradient (as `zero_grad(set_to_none=True)`).
  public func zeroGrad() throws {
    for (_, p) in namedParameters() { try p.value.zeroGrad() }
  }
}
