import Foundation
import Hummingbird
import Imaging
import NIOCore
import ServiceLifecycle
import Torch

/// `fmboost serve`: the pipelines over HTTP — A1111's API for existing clients, an asynchronous
/// job API, and a page. Hummingbird 2 (SwiftNIO underneath, structured concurrency, graceful
/// shutdown through swift-service-lifecycle) is the HTTP layer: the best-kept server in the package
/// mirror that is also small (Vapor brings a larger stack this needs none of).
public final class FMBoostServer: Sendable {
  public let configuration: ServerConfiguration
  let queue: JobQueue
  let engine: Engine
  let log: @Sendable (String) -> Void
  private let running = RunningGroup()

  public init(_ configuration: ServerConfiguration, log: @escaping @Sendable (String) -> Void = { print($0) }) throws {
    self.configuration = configuration
    try Devices.check(configuration.device)
    engine = try Engine(configuration: configuration)
    queue = JobQueue(engine: engine, capacity: configuration.queueCapacity, concurrency: configuration.concurrency,
                     kept: configuration.finishedJobsKept)
    self.log = log
  }

  /// Serves until SIGTERM or SIGINT, `shutDown()` or the task is cancelled, then shuts down
  /// gracefully: cancels every job and returns once none runs. `onListening(port)` once the socket
  /// is bound.
  public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    let router = Router()
    router.add(middleware: RequestGuard(token: configuration.token, allowedOrigins: configuration.allowedOrigins, log: log))
    addPageRoutes(to: router)
    addJobRoutes(to: router)
    addA1111Routes(to: router)
    let app = Application(
      router: router,
      server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinue()])),
      configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fmboost"),
      services: [JobsShutdown(queue: queue)],
      onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) })
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: app.logger))
    // The group runs in a task of its own, so that cancelling the caller shuts it down gracefully: a
    // cancelled group drops connections NIO has accepted but not yet handed over, and NIO traps on
    // those ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#3481).
    guard running.attach(group) else { return }
    let serving = Task { try await group.run() }
    try await withTaskCancellationHandler { try await serving.value } onCancel: { Task { await group.triggerGracefulShutdown() } }
  }

  /// Shuts a running server down as SIGTERM does; `run` returns once it has (a server not yet
  /// running will not start).
  public func shutDown() async {
    if let group = running.requestShutdown() { await group.triggerGracefulShutdown() }
  }

  /// The request body, at most `maxBodyBytes` (413 beyond).
  func body(_ body: RequestBody) async throws -> Data {
    Data(try await body.collect(upTo: configuration.maxBodyBytes).readableBytesView)
  }

  /// An upscale job's work after checking what can be checked before queueing: an image this
  /// server reads (400), not too large (413), a known upscaler and a scale in 1…16 (400).
  func upscaleWork(_ image: Data, upscaler: String?, scale: Double, size: (width: Int, height: Int)? = nil) throws -> Job.Work {
    let header: ImageHeader
    do { header = try ImageHeader.read(data: image, name: "the image") } catch { throw APIError(.badRequest, "\(error)") }
    guard header.width * header.height <= configuration.maxInputPixels else {
      throw APIError(.contentTooLarge, "the image has \(header.width)×\(header.height) pixels; this server takes at most \(configuration.maxInputPixels)")
    }
    guard header.width >= 2, header.height >= 2 else { throw APIError(.badRequest, "the image is \(header.width)×\(header.height) pixels; at least 2×2") }
    guard scale.isFinite, (1...16).contains(scale) else { throw APIError(.badRequest, "the scale must be 1…16, got \(scale)") }
    if let size, !(1...(16 * max(header.width, header.height))).contains(max(size.width, size.height)) || min(size.width, size.height) < 1 {
      throw APIError(.badRequest, "the size \(size.width)×\(size.height) is out of range for a \(header.width)×\(header.height) image")
    }
    let entry = try engine.upscalers.entry(upscaler)
    return .upscale(image: image, upscaler: entry.name, scale: scale, size: size)
  }

  /// Waits for `job`; cancelling the waiting task (the client went away) cancels the job.
  func wait(for job: Job) async throws {
    await withTaskCancellationHandler { await job.finished() } onCancel: { [queue] in queue.cancel(job) }
    switch job.state {
    case .succeeded: return
    case .cancelled: throw APIError(.serviceUnavailable, "the job was cancelled")
    default: throw APIError(job.inputAtFault ? .badRequest : .internalServerError, job.error ?? "the job failed")
    }
  }

  static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(value))))
  }
}

/// Base64 as A1111 clients send it, with or without a `data:…;base64,` prefix.
func decodeBase64(_ text: String, field: String) throws -> Data {
  let payload = text.firstIndex(of: ",").map { text.hasPrefix("data:") ? String(text[text.index(after: $0)...]) : text } ?? text
  guard let data = Data(base64Encoded: payload, options: .ignoreUnknownCharacters), !data.isEmpty else {
    throw APIError(.badRequest, "\(field) is not base64-encoded image data")
  }
  return data
}

/// The service group a server runs, for `shutDown()`.
private final class RunningGroup: @unchecked Sendable {
  private let lock = NSLock()
  private var group: ServiceGroup?
  private var shutDownRequested = false

  /// false: shutdown was asked for before the server started.
  func attach(_ group: ServiceGroup) -> Bool {
    lock.withLock {
      self.group = group
      return !shutDownRequested
    }
  }

  func requestShutdown() -> ServiceGroup? {
    lock.withLock {
      shutDownRequested = true
      return group
    }
  }
}

/// At shutdown (SIGTERM, SIGINT), before the server stops: no new jobs, every job cancelled, so
/// that requests waiting for one answer and end.
struct JobsShutdown: Service {
  let queue: JobQueue

  func run() async throws {
    try? await gracefulShutdown()
    await queue.shutdown()
  }
}
