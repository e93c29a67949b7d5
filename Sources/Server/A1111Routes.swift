import Foundation
import Hummingbird

/// AUTOMATIC1111's web UI API, the request and response shapes its clients send and read
/// (`/sdapi/v1/...`). A request that waits for its result is cancelled when its client goes away.
extension FMBoostServer {
  struct ExtraSingleImage: Decodable {
    let image: String
    var resize_mode: Int?
    var upscaling_resize: Double?
    var upscaling_resize_w: Int?
    var upscaling_resize_h: Int?
    var upscaler_1: String?
  }

  struct ExtraBatchImages: Decodable {
    struct Item: Decodable {
      let data: String
      var name: String?
    }
    let imageList: [Item]
    var resize_mode: Int?
    var upscaling_resize: Double?
    var upscaling_resize_w: Int?
    var upscaling_resize_h: Int?
    var upscaler_1: String?
  }

  /// `{"image": base64, "html_info": ""}` or `{"images": [...], "html_info": ""}`, written directly:
  /// base64 needs no escaping, and JSONEncoder takes about a second over a 3 MB string.
  static func imagesResponse(_ images: [Data], single: Bool) -> Response {
    var buffer = ByteBuffer()
    buffer.writeString(single ? #"{"image":""# : #"{"images":["#)
    for (i, image) in images.enumerated() {
      buffer.writeString((i > 0 ? "," : "") + (single ? "" : "\""))
      buffer.writeBytes(image.base64EncodedData())
      buffer.writeString("\"")
    }
    buffer.writeString(single ? #","html_info":""}"# : #"],"html_info":""}"#)
    return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
  }

  struct TextToImageResult: Encodable {
    let images: [String]
    let parameters: TextToImageRequest
    let info: String
  }

  struct Progress: Encodable {
    struct State: Encodable { let job_count: Int; let interrupted: Bool; let job: String }
    let progress: Double
    let eta_relative: Double
    let state: State
    let current_image: String?
    let textinfo: String?

    enum CodingKeys: CodingKey { case progress, eta_relative, state, current_image, textinfo }

    /// Absent values as null, as A1111 sends them.
    func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(progress, forKey: .progress)
      try c.encode(eta_relative, forKey: .eta_relative)
      try c.encode(state, forKey: .state)
      try c.encode(current_image, forKey: .current_image)
      try c.encode(textinfo, forKey: .textinfo)
    }
  }

  func addA1111Routes(to router: Router<BasicRequestContext>) {
    let api = router.group("/sdapi/v1")
    api.get("/upscalers") { _, _ in try Self.json(self.engine.upscalers.entries) }
    api.post("/extra-single-image") { request, _ in
      try await request.body.consumeWithCancellationOnInboundClose { body in
        let r = try JSONDecoder().decode(ExtraSingleImage.self, from: try await self.body(body))
        let work = try self.upscaleWork(try decodeBase64(r.image, field: "image"), upscaler: r.upscaler_1, scale: r.upscaling_resize ?? 2,
                                        size: try Self.size(mode: r.resize_mode, width: r.upscaling_resize_w, height: r.upscaling_resize_h))
        let job = try self.queue.submit(work)
        try await self.wait(for: job)
        return Self.imagesResponse(job.result, single: true)
      }
    }
    api.post("/extra-batch-images") { request, _ in
      try await request.body.consumeWithCancellationOnInboundClose { body in
        let r = try JSONDecoder().decode(ExtraBatchImages.self, from: try await self.body(body))
        guard !r.imageList.isEmpty else { throw APIError(.badRequest, "imageList is empty") }
        let size = try Self.size(mode: r.resize_mode, width: r.upscaling_resize_w, height: r.upscaling_resize_h)
        let works = try r.imageList.enumerated().map { i, item in
          try self.upscaleWork(try decodeBase64(item.data, field: "imageList[\(i)].data"), upscaler: r.upscaler_1, scale: r.upscaling_resize ?? 2, size: size)
        }
        var images: [Data] = []
        for work in works {  // one at a time: a batch never takes more than one place in the queue
          let job = try self.queue.submit(work)
          try await self.wait(for: job)
          images.append(job.result[0])
        }
        return Self.imagesResponse(images, single: false)
      }
    }
    api.post("/txt2img") { request, _ in
      guard self.configuration.stableDiffusion != nil else { throw APIError(.notFound, "this server was started without SD weights") }
      return try await request.body.consumeWithCancellationOnInboundClose { body in
        let r = try JSONDecoder().decode(TextToImageRequest.self, from: try await self.body(body))
        try r.validate()
        let job = try self.queue.submit(.generate(r))
        try await self.wait(for: job)
        return try Self.json(TextToImageResult(images: job.result.map { $0.base64EncodedString() }, parameters: r, info: job.info))
      }
    }
    api.get("/progress") { request, _ in
      let load = self.queue.load
      let job = load.running.first
      // The image being worked on: an upscale's input (the flow has no intermediate image to show).
      let skip = request.uri.queryParameters.get("skip_current_image") == "true"
      let current = skip ? nil : job?.currentImage
      return try Self.json(Progress(
        progress: job?.progress ?? 0, eta_relative: job?.eta ?? 0,
        state: .init(job_count: load.running.count + load.waiting, interrupted: false, job: job?.id ?? ""),
        current_image: current, textinfo: job.map { "\($0.state.rawValue) \(Int($0.progress * 100)) %" }))
    }
    api.post("/interrupt") { _, _ in
      self.queue.cancelRunning()
      return try Self.json([String: String]())
    }
  }

  /// A1111's resize_mode 1: scale to upscaling_resize_w × upscaling_resize_h.
  static func size(mode: Int?, width: Int?, height: Int?) throws -> (width: Int, height: Int)? {
    guard mode == 1 else { return nil }
    guard let width, let height else { throw APIError(.badRequest, "resize_mode 1 needs upscaling_resize_w and upscaling_resize_h") }
    return (width, height)
  }
}
