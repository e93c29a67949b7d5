/// A checkpoint or tensor file could not be read or written. The description names the file.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
  public let file: String
  public let reason: String

  public init(file: String, _ reason: String) {
    self.file = file
    self.reason = reason
  }

  public var description: String { "\(file): \(reason)" }
}
