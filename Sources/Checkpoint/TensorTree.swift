import Foundation

/// The machine-readable form of `inspect --json`.
public struct InspectReport: Encodable {
  public struct Item: Encodable {
    public let name: String
    public let dtype: String
    public let shape: [Int]
    public let elements: Int
  }

  public let file: String
  public let format: String
  public let tensorCount: Int
  public let totalElements: Int
  public let metadata: [String: String]
  public let skippedClasses: [String]
  public let tensors: [Item]

  private let descriptors: [TensorFile.Descriptor]

  enum CodingKeys: CodingKey { case file, format, tensorCount, totalElements, metadata, skippedClasses, tensors }

  public init(file: TensorFile, descriptors: [TensorFile.Descriptor]) {
    self.descriptors = descriptors
    self.file = file.path
    format = file.kind.rawValue
    tensorCount = descriptors.count
    totalElements = descriptors.reduce(0) { $0 + $1.elementCount }
    metadata = file.metadata
    skippedClasses = file.skippedClasses
    tensors = descriptors.map { Item(name: $0.name, dtype: $0.dtype.description, shape: $0.shape, elements: $0.elementCount) }
  }

  /// The human-readable form: a summary line, the metadata (long values cut), the tensor tree
  /// down to `maxDepth`, and the classes skipped.
  public func lines(maxDepth: Int? = nil) -> [String] {
    var lines = ["\(file): \(format), \(tensorCount) tensors, \(totalElements.grouped) elements"]
    for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
      lines.append("metadata \(key): \(value.count > 160 ? String(value.prefix(160)) + "…" : value)")
    }
    lines += TensorTree(descriptors).render(maxDepth: maxDepth)
    if !skippedClasses.isEmpty { lines.append("skipped (recorded by name, never constructed): \(skippedClasses.joined(separator: ", "))") }
    return lines
  }

  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }
}

/// Tensor names split at "/" and "." into a tree; each group shows its tensor and element counts.
public struct TensorTree {
  final class Node {
    var children: [(String, Node)] = []
    var index: [String: Int] = [:]
    var leaf: TensorFile.Descriptor?
    var tensors = 0
    var elements = 0

    func child(_ name: String) -> Node {
      if let i = index[name] { return children[i].1 }
      let n = Node()
      index[name] = children.count
      children.append((name, n))
      return n
    }
  }

  let root = Node()

  public init(_ descriptors: [TensorFile.Descriptor]) {
    for d in descriptors {
      var node = root
      node.tensors += 1
      node.elements += d.elementCount
      for part in Self.components(d.name) {
        node = node.child(part)
        node.tensors += 1
        node.elements += d.elementCount
      }
      node.leaf = d
    }
  }

  /// "state_dict/model.net.out.2.weight" -> ["state_dict/", "model.", "net.", "out.", "2.", "weight"]
  static func components(_ name: String) -> [String] {
    var parts: [String] = []
    var current = ""
    for c in name {
      current.append(c)
      if c == "/" || c == "." {
        parts.append(current)
        current = ""
      }
    }
    if !current.isEmpty { parts.append(current) }
    return parts
  }

  /// One line per group and tensor, groups below `maxDepth` summed.
  public func render(maxDepth: Int?) -> [String] {
    var lines: [String] = []
    func visit(_ node: Node, _ name: String, _ depth: Int) {
      // Chains of single children print as one line ("model.net." rather than two levels).
      var label = name, current = node
      while current.leaf == nil, current.children.count == 1 {
        label += current.children[0].0
        current = current.children[0].1
      }
      let indent = String(repeating: "  ", count: depth)
      if let leaf = current.leaf {
        let shape = "[" + leaf.shape.map(String.init).joined(separator: ", ") + "]"
        lines.append("\(indent)\(label.padding(to: max(1, 44 - indent.count)))  \(leaf.dtype.description.padding(to: 8))  \(shape.padding(to: 20))  \(leaf.elementCount.grouped)")
        return
      }
      lines.append("\(indent)\(label.padding(to: max(1, 44 - indent.count)))  \(current.tensors) tensors, \(current.elements.grouped) elements")
      if let maxDepth, depth >= maxDepth { return }
      for (childName, child) in current.children { visit(child, childName, depth + 1) }
    }
    for (name, child) in root.children { visit(child, name, 0) }
    return lines
  }
}

extension String {
  func padding(to width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

extension Int {
  /// 305806340 -> "305,806,340"
  public var grouped: String {
    let digits = String(Swift.abs(self))
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return (self < 0 ? "-" : "") + out
  }
}
