import ArgumentParser
import Server

/// `fmboost serve`: the HTTP API and the page.
struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve upscaling (and text to image) over HTTP: A1111's API, a job API, and a page at /.",
    discussion: paragraphs("""
      Binds 127.0.0.1 unless --host says otherwise (then pass --token); pages of other sites are refused. One job computes at a time (--concurrency);
      a full queue answers 429. SIGTERM or SIGINT stops accepting, cancels the jobs and exits. The API: docs/server.md.
      """))

  @Option(help: "Address to bind.") var host = "127.0.0.1"
  @Option(help: "Port (0: any free one).") var port = 7860
  @Option(help: "Require `Authorization: Bearer TOKEN` on the API.") var token: String?
  @Option(help: "Also accept requests from pages of this origin (e.g. http://localhost:3000); repeatable.") var allowOrigin: [String] = []
  @Option(help: "Offer every .safetensors model in this folder as an upscaler, besides the default model.") var models: String?
  @Option(help: "Stable Diffusion 1.x weights for /sdapi/v1/txt2img.") var sdModel: String?
  @Option(help: "Jobs waiting or running at most.") var queue = 16
  @Option(help: "Jobs computing at once.") var concurrency = 1
  @Option(help: "Largest request body, in MB.") var maxBody = 64
  @Option(help: "Largest input image, in megapixels.") var maxMegapixels = 16.0
  @OptionGroup var threading: ThreadsOption
  @OptionGroup var placement: DeviceOption

  func validate() throws {
    guard (1...10_000).contains(queue), (1...64).contains(concurrency), maxBody >= 1, maxMegapixels > 0 else { throw ValidationError("--queue must be 1…10000, --concurrency 1…64, --max-body and --max-megapixels positive") }
    guard ["127.0.0.1", "::1", "localhost"].contains(host) || token != nil else { throw ValidationError("--host \(host) accepts other machines: pass --token as well") }
  }

  func run() async throws {
    threading.apply()
    var c = ServerConfiguration()
    (c.host, c.port, c.token, c.allowedOrigins, c.modelFolder, c.stableDiffusion) = (host, port, token, Set(allowOrigin), models, sdModel)
    (c.queueCapacity, c.concurrency, c.maxBodyBytes, c.maxInputPixels) = (queue, concurrency, maxBody << 20, Int(maxMegapixels * 1e6))
    c.device = try placement.resolve()
    let server = try FMBoostServer(c)
    try await server.run { port in print("serving http://\(host):\(port)/ (Ctrl-C stops)") }
  }
}
