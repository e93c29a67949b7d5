import Foundation
import Yams

/// A configuration error; the message names the key (and the file) and what was expected.
public struct ConfigError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A YAML configuration as a plain tree, with OmegaConf-style `key.sub=value` overrides and a
/// reader that records which keys were used, so unknown keys are errors that list the valid ones.
public final class ConfigTree {
  /// Maps are [String: Any], lists [Any], scalars Int/Double/Bool/String, null NSNull.
  public private(set) var root: [String: Any]
  let source: String
  private var known: [String: Set<String>] = [:]

  public init(yaml: String, source: String) throws {
    self.source = source
    let loaded: Any?
    do {
      loaded = try Yams.load(yaml: yaml)
    } catch {
      throw ConfigError("\(source): not valid YAML (\(error))")
    }
    guard let map = loaded as? [String: Any] else { throw ConfigError("\(source): the top level must be a mapping") }
    root = map
  }

  public convenience init(path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError("\(path): cannot read the config file") }
    try self.init(yaml: String(decoding: data, as: UTF8.self), source: path)
  }

  /// Applies `a.b.c=value` overrides; values are parsed as YAML scalars (`1e-4`, `true`, `[1, 2]`).
  public func apply(overrides: [String]) throws {
    for item in overrides {
      guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
        throw ConfigError("override '\(item)' is not key.path=value")
      }
      let path = item[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
      guard !path.contains(where: \.isEmpty) else { throw ConfigError("override '\(item)' has an empty key component") }
      let text = String(item[item.index(after: eq)...])
      let value = (try? Yams.load(yaml: text)).flatMap { $0 } ?? (text.isEmpty ? NSNull() : text)
      root = try set(root, path: path[...], value: value, full: path.joined(separator: "."))
    }
  }

  private func set(_ map: [String: Any], path: ArraySlice<String>, value: Any, full: String) throws -> [String: Any] {
    var map = map
    let key = path.first!
    if path.count == 1 {
      map[key] = value
    } else {
      let child = map[key] as? [String: Any] ?? [:]
      if map[key] != nil && !(map[key] is [String: Any]) && !(map[key] is NSNull) {
        throw ConfigError("override \(full): \(key) is not a mapping")
      }
      map[key] = try set(child, path: path.dropFirst(), value: value, full: full)
    }
    return map
  }

  func node(_ path: String) -> Any? {
    var current: Any? = root
    for part in path.split(separator: ".") {
      guard let map = current as? [String: Any] else { return nil }
      current = map[String(part)]
    }
    return current
  }

  /// Records `path` and all its ancestors as understood keys.
  private func note(_ path: String) {
    let parts = path.split(separator: ".").map(String.init)
    for i in parts.indices { known[parts[..<i].joined(separator: "."), default: []].insert(parts[i]) }
  }

  private func typeError(_ path: String, _ expected: String, _ value: Any) -> ConfigError {
    ConfigError("\(source): \(path) must be \(expected), got \(value)")
  }

  public func has(_ path: String) -> Bool { node(path) != nil && !(node(path) is NSNull) }

  public func int(_ path: String, default value: Int) throws -> Int {
    note(path)
    guard let v = node(path), !(v is NSNull) else { return value }
    if let i = v as? Int { return i }
    throw typeError(path, "an integer", v)
  }

  public func double(_ path: String, default value: Double) throws -> Double {
    note(path)
    guard let v = node(path), !(v is NSNull) else { return value }
    if let d = v as? Double { return d }
    if let i = v as? Int { return Double(i) }
    if let s = v as? String, let d = Double(s) { return d }  // YAML 1.1 reads 3e-5 as a string
    throw typeError(path, "a number", v)
  }

  public func bool(_ path: String, default value: Bool) throws -> Bool {
    note(path)
    guard let v = node(path), !(v is NSNull) else { return value }
    if let b = v as? Bool { return b }
    throw typeError(path, "true or false", v)
  }

  public func string(_ path: String, default value: String?) throws -> String? {
    note(path)
    guard let v = node(path), !(v is NSNull) else { return value }
    if let s = v as? String { return s }
    if let i = v as? Int { return String(i) }
    if let d = v as? Double { return String(d) }
    throw typeError(path, "a string", v)
  }

  /// A string naming one case of `T`; anything else is refused with the names of all of them.
  public func choice<T: RawRepresentable & CaseIterable>(_ path: String, default value: T) throws -> T where T.RawValue == String {
    let name = try string(path, default: value.rawValue)!
    guard let choice = T(rawValue: name) else {
      let names = T.allCases.map(\.rawValue)
      throw ConfigError("\(source): \(path) must be \(names.dropLast().joined(separator: ", ")) or \(names.last!), got \(name)")
    }
    return choice
  }

  public func ints(_ path: String, default value: [Int]) throws -> [Int] {
    note(path)
    guard let v = node(path), !(v is NSNull) else { return value }
    guard let list = v as? [Any] else { throw typeError(path, "a list of integers", v) }
    return try list.map {
      guard let i = $0 as? Int else { throw typeError(path, "a list of integers", v) }
      return i
    }
  }

  /// Declares a key as understood (one that may be null, like `first_stage_cfg`).
  public func declare(_ path: String) { note(path) }

  /// Fails on the first key that no reader asked for, naming the valid keys at its level.
  public func rejectUnknownKeys() throws {
    func walk(_ map: [String: Any], _ prefix: String) throws {
      for key in map.keys.sorted() {
        let path = prefix.isEmpty ? key : prefix + "." + key
        guard known[prefix]?.contains(key) == true else {
          let valid = (known[prefix] ?? []).sorted().joined(separator: ", ")
          throw ConfigError("\(source): unknown key '\(path)' (valid keys\(prefix.isEmpty ? "" : " under \(prefix)"): \(valid))")
        }
        if let child = map[key] as? [String: Any] { try walk(child, path) }
      }
    }
    try walk(root, "")
  }

  /// The merged configuration as YAML (saved in the run folder).
  public func yaml() throws -> String { try Yams.dump(object: root, sortKeys: true) }
}
