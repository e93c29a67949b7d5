import Foundation
import Torch

/// What `fmboost serve` is started with.
public struct ServerConfiguration: Sendable {
  /// The address to bind: loopback unless told otherwise.
  public var host = "127.0.0.1"
  /// 0 picks a free port (`FMBoostServer.port` says which).
  public var port = 7860
  /// Required as `Authorization: Bearer <token>` on the API when set.
  public var token: String?
  /// Origins besides the server's own whose pages may call the API.
  public var allowedOrigins: Set<String> = []
  /// Model files offered as upscalers besides the default model (`*.safetensors` in this folder).
  public var modelFolder: String?
  /// The default model file (nil: the shipped one).
  public var defaultModel: String?
  /// Stable Diffusion 1.x weights for txt2img (nil: txt2img answers 404).
  public var stableDiffusion: String?
  /// openai/CLIP's vocabulary for an SD single file (default: the one `make clip-vocab` fetches).
  public var vocabulary: String?
  /// Jobs waiting or running at most; one more is answered 429.
  public var queueCapacity = 16
  /// Jobs computing at once (the machine's cores are one pool: 1 by default).
  public var concurrency = 1
  /// Request bodies larger than this are answered 413.
  public var maxBodyBytes = 64 << 20
  /// Input images with more pixels are answered 413.
  public var maxInputPixels = 16_000_000
  /// Where the networks run (checked when the server starts).
  public var device: Device = .cpu
  /// Finished jobs kept for their results (the oldest are dropped first).
  public var finishedJobsKept = 64

  public init() {}

  /// Whether `host` only accepts connections from this machine.
  public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) }
}
