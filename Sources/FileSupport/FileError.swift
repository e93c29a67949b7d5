/// A file could not be read, written or found. The description names the file.
public struct FileError: Error, CustomStringConvertible, Equatable {
  public let file: String
  public let reason: String

  public init(file: String, _ reason: String) {
    self.file = file
    self.reason = reason
  }

  public var description: String { "\(file): \(reason)" }
}
