import Torch

/// Layers applied in order, named "0", "1", ... as `nn.Sequential` (so `out.0.weight`).
public final class Sequential: Module, Layer {
  public private(set) var layers: [any Layer] = []

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
