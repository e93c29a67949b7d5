import Foundation
import Hummingbird

/// The native API: submit a job (JSON or a multipart upload), get 202 and its URL, poll it or
/// follow it as server-sent events, fetch its PNG, cancel it.
extension FMBoostServer {
  struct SubmitRequest: Decodable {
    let image: String
    var scale: Double?
    var upscaler: String?
  }

  struct Submitted: Encodable {
    let id: String
    let url: String
    let events: String
    let result: String
  }

  func addJobRoutes(to router: Router<BasicRequestContext>) {
    router.get("/health") { _, _ in
      let load = self.queue.load
      return try Self.json(Health(running: load.running.count, waiting: load.waiting, capacity: self.queue.capacity, finished: load.outcomes,
                                  txt2img: self.configuration.stableDiffusion != nil, upscalers: self.engine.upscalers.entries.map(\.name)))
    }
    router.post("/v1/jobs") { request, _ in
      let body = try await self.body(request.body)
      let work: Job.Work
      if let boundary = Multipart.boundary(request.headers[.contentType]) {
        let parts = try Multipart.parse(body, boundary: boundary)
        guard let image = parts["image"] else { throw APIError(.badRequest, "the upload has no `image` part") }
        let scale = try parts["scale"].map { try Self.number(String(decoding: $0, as: UTF8.self), field: "scale") }
        work = try self.upscaleWork(image, upscaler: parts["upscaler"].map { String(decoding: $0, as: UTF8.self) }, scale: scale ?? 2)
      } else {
        let submit = try JSONDecoder().decode(SubmitRequest.self, from: body)
        work = try self.upscaleWork(try decodeBase64(submit.image, field: "image"), upscaler: submit.upscaler, scale: submit.scale ?? 2)
      }
      let job = try self.queue.submit(work)
      let url = "/v1/jobs/\(job.id)"
      return try Self.json(Submitted(id: job.id, url: url, events: url + "/events", result: url + "/result"), status: .accepted,
                           headers: [.location: url])
    }
    router.get("/v1/jobs/:id") { _, context in try Self.json(try self.job(context).status) }
    router.delete("/v1/jobs/:id") { _, context in
      let job = try self.job(context)
      self.queue.cancel(job)
      return try Self.json(job.status)
    }
    router.get("/v1/jobs/:id/result") { request, context in
      let job = try self.job(context)
      switch job.state {
      case .queued, .running: throw APIError(.conflict, "the job is \(job.state.rawValue); wait for it (its events) first")
      case .failed, .cancelled: throw APIError(.gone, "the job \(job.state.rawValue): \(job.error ?? "")")
      case .succeeded: break
      }
      let index = request.uri.queryParameters.get("index").flatMap { Int($0) } ?? 0
      guard job.result.indices.contains(index) else { throw APIError(.notFound, "the job has \(job.result.count) images") }
      return Response(status: .ok, headers: [.contentType: "image/png", .contentDisposition: "inline; filename=\"\(job.id).png\""],
                      body: ResponseBody(byteBuffer: ByteBuffer(bytes: job.result[index])))
    }
    router.get("/v1/jobs/:id/events") { _, context in
      let job = try self.job(context)
      return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
        var last: Double = -1
        while true {
          let status = job.status
          let finished = status.state.isFinal
          if status.progress != last || finished {
            last = status.progress
            let data = try JSONEncoder().encode(status)
            try await writer.write(ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n"))
          }
          if finished { break }
          try await Task.sleep(for: .milliseconds(200))
        }
        try await writer.finish(nil)
      })
    }
  }

  func job(_ context: BasicRequestContext) throws -> Job {
    let id = try context.parameters.require("id")
    guard let job = queue.job(id) else { throw APIError(.notFound, "no job \(id) (finished jobs are kept for the last \(queue.kept))") }
    return job
  }

  static func number(_ text: String, field: String) throws -> Double {
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else { throw APIError(.badRequest, "\(field) is not a number: \(text)") }
    return value
  }

  struct Health: Encodable {
    var status = "ok"
    let running: Int, waiting: Int, capacity: Int
    /// Jobs ended, by state.
    let finished: [String: Int]
    let txt2img: Bool
    let upscalers: [String]
  }
}

/// multipart/form-data (RFC 7578) as its parts' names and contents.
enum Multipart {
  static func boundary(_ contentType: String?) -> String? {
    guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
    return contentType.split(separator: ";").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
      .first { $0.lowercased().hasPrefix("boundary=") }.map { String($0.dropFirst(9)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
  }

  static func parse(_ body: Data, boundary: String) throws -> [String: Data] {
    let delimiter = Data(("--" + boundary).utf8), headerEnd = Data("\r\n\r\n".utf8)
    var parts: [String: Data] = [:]
    var cursor = body.startIndex
    guard let first = body.range(of: delimiter, in: cursor..<body.endIndex) else { throw APIError(.badRequest, "malformed multipart body: no boundary") }
    cursor = first.upperBound
    while let next = body.range(of: delimiter, in: cursor..<body.endIndex) {
      let part = body[cursor..<next.lowerBound]
      cursor = next.upperBound
      guard let split = part.range(of: headerEnd) else { continue }
      let headers = String(decoding: part[part.startIndex..<split.lowerBound], as: UTF8.self)
      var content = part[split.upperBound...]
      if content.suffix(2) == Data("\r\n".utf8) { content = content.dropLast(2) }
      guard let name = headers.range(of: "name=\"").map({ headers[$0.upperBound...].prefix { $0 != "\"" } }) else { continue }
      parts[String(name)] = Data(content)
    }
    guard !parts.isEmpty else { throw APIError(.badRequest, "malformed multipart body: no parts") }
    return parts
  }
}
