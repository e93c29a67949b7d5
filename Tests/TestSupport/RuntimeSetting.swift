import Torch

/// Runs `body` with a `Runtime` setting at `value`, then restores what it was.
public func withRuntime<T>(_ setting: ReferenceWritableKeyPath<Runtime.Type, Int>, _ value: Int,
                           _ body: () throws -> T) rethrows -> T {
  let saved = Runtime.self[keyPath: setting]
  Runtime.self[keyPath: setting] = value
  defer { Runtime.self[keyPath: setting] = saved }
  return try body()
}
