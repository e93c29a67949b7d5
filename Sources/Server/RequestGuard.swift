import Foundation
import Hummingbird

/// In front of every route: one log line per request; the origin check (a page of another site
/// must not drive a local server); the bearer token when one is set; and every error as a JSON
/// `{"error": "..."}` with its status, never a crash or an HTML page.
struct RequestGuard<Context: RequestContext>: RouterMiddleware {
  let token: String?
  let allowedOrigins: Set<String>
  let log: @Sendable (String) -> Void

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    let start = DispatchTime.now().uptimeNanoseconds
    let response: Response
    do {
      try check(request)
      response = try await next(request, context)
    } catch {
      response = Self.errorResponse(error)
    }
    let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    log("\(request.method) \(request.uri.path) \(response.status.code) \(String(format: "%.1f", ms)) ms")
    return response
  }

  func check(_ request: Request) throws {
    if let origin = request.headers[.origin] {
      let own = request.head.authority.map { "http://\($0)" }
      guard origin == own || allowedOrigins.contains(origin) else {
        throw APIError(.forbidden, "requests from the page of \(origin) are refused (this server's own pages and the origins it was told to allow are accepted)")
      }
    }
    guard let token, request.uri.path != "/", request.uri.path != "/health" else { return }
    guard request.headers[.authorization] == "Bearer \(token)" else {
      throw APIError(.unauthorized, "this server needs `Authorization: Bearer <token>`")
    }
  }

  static func errorResponse(_ error: any Error) -> Response {
    var status = HTTPResponse.Status.internalServerError
    var message = "\(error)"
    var headers: HTTPFields = [.contentType: "application/json"]
    switch error {
    case let error as APIError:
      status = error.status
      if let seconds = error.retryAfter { headers[.retryAfter] = String(seconds) }
    case let error as any HTTPResponseError:
      status = error.status
      message = status == .contentTooLarge ? "the request body is larger than this server accepts" : (error as? HTTPError)?.body ?? status.reasonPhrase
    case is DecodingError:
      status = .badRequest
      message = "malformed JSON: \(JSONErrors.describe(error))"
    default: break
    }
    let body = (try? JSONEncoder().encode(["error": message])) ?? Data(#"{"error":"unknown"}"#.utf8)
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
  }
}

enum JSONErrors {
  /// A decoding error as "field: problem".
  static func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ keys: [any CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
    switch error {
    case .keyNotFound(let key, let c): return "\(path(c.codingPath + [key])) is missing"
    case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c.codingPath)) has the wrong type"
    case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not JSON" : "\(path(c.codingPath)): \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
  }
}
