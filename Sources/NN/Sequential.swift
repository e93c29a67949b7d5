import Torch

/// Layers applied in order, named "0", "1", ... as `nn.Sequential` (so `out.0.weight`).
public final class Sequential: Module, Layer {
  public private(set) var layers: [any Layer] = []

  /// Layers built in `p` (each under its index, `p["2"]`; those without parameters need no scope).
  public init(_ p: ModuleScope, _ layers: [any Layer]) {
    self.layers = layers
    super.init(p)
  }

  /// Layers built apart, registered under their indices.
  public init(_ layers: [any Layer]) {
    super.init()
    for layer in layers { append(layer) }
  }

  public func append(_ layer: any Layer) {
    register(String(layers.count), layer)
    layers.append(layer)
  }

  public subscript(index: Int) -> any Layer { layers[index] }
  public var count: Int { layers.count }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try layers.reduce(x) { try $1($0) }
  }
}

/// Modules indexed "0", "1", ... without a forward of its own — `nn.ModuleList`.
public final class ModuleList<Element: Module>: Module {
  public private(set) var items: [Element] = []

  /// Items built in `p`, each under its index.
  public init(_ p: ModuleScope, _ items: [Element]) {
    self.items = items
    super.init(p)
  }

  /// Items built apart, registered under their indices.
  public init(_ items: [Element] = []) {
    super.init()
    for item in items { append(item) }
  }

  public func append(_ item: Element) {
    register(String(items.count), item)
    items.append(item)
  }

  public subscript(index: Int) -> Element { items[index] }
  public var count: Int { items.count }
}

/// The layers of a sequence built in one scope, each under its index — for modules saved with
/// `<index>.<path>` keys (an `nn.Sequential` subclass), where the index is counted, not written.
public struct IndexedLayers {
  let scope: ModuleScope
  public private(set) var all: [any Layer] = []

  public init(_ scope: ModuleScope) { self.scope = scope }

  /// Builds the next layer under its index.
  public mutating func add(_ build: (ModuleScope) throws -> any Layer) rethrows {
    all.append(try build(scope[all.count]))
  }

  /// Appends a layer without parameters (it takes an index all the same).
  public mutating func add(_ layer: any Layer) { all.append(layer) }

  /// Runs the layers in order.
  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try all.reduce(x) { try $1($0) }
  }
}
