import HTTPTypes

/// A request the API refuses: its status and what is wrong, sent as `{"error": "..."}`.
public struct APIError: Error, CustomStringConvertible, Sendable {
  public let status: HTTPResponse.Status
  public let description: String
  /// Seconds, for 429 and 503.
  public var retryAfter: Int?

  public init(_ status: HTTPResponse.Status, _ description: String, retryAfter: Int? = nil) {
    self.status = status
    self.description = description
    self.retryAfter = retryAfter
  }
}
