import FMBoost
import Foundation
import Imaging
import Pipelines
import StableDiffusion
import Torch

/// Runs jobs: decodes, calls the pipelines, encodes PNGs. Called on a compute thread, never on the
/// server's event loops or Swift's cooperative pool.
final class Engine: @unchecked Sendable {
  let configuration: ServerConfiguration
  let upscalers: Upscalers

  init(configuration: ServerConfiguration) throws {
    self.configuration = configuration
    upscalers = try Upscalers(configuration: configuration)
  }

  /// Runs `job` to its end; its outcome is recorded in it.
  func run(_ job: Job) {
    guard job.start() else { return }
    do {
      switch job.work {
      case .upscale(let image, let upscaler, let scale, let size):
        job.finish(.succeeded, result: [try upscale(image, upscaler: upscaler, scale: scale, size: size, job: job)])
      case .generate(let request):
        let (images, info) = try generate(request, job: job)
        job.finish(.succeeded, result: images, info: info)
      }
    } catch PipelineError.cancelled {
      job.finish(.cancelled, error: "cancelled")
    } catch let error as ImageError {
      job.finish(.failed, error: "\(error)", inputAtFault: true)
    } catch let error as APIError where error.status.code < 500 {
      job.finish(.failed, error: error.description, inputAtFault: true)
    } catch {
      job.finish(.failed, error: "\(error)")
    }
    Runtime.releaseFreedMemory()
  }

  /// The image upscaled by the model's scale per stage, then resized (bicubic, antialiased) to the
  /// exact size asked for where that is not a power of the model's scale.
  func upscale(_ data: Data, upscaler: String, scale: Double, size: (width: Int, height: Int)?, job: Job) throws -> Data {
    let picture = try ImageFile.decodePicture(data, name: "the image")
    let target = size ?? (Int((Double(picture.width) * scale).rounded()), Int((Double(picture.height) * scale).rounded()))
    let factor = max(Double(target.width) / Double(picture.width), Double(target.height) / Double(picture.height))
    let pipeline = try upscalers.pipeline(upscaler, factor: factor)
    let stages = pipeline.stages(reaching: factor)
    var result = try pipeline.upsample(picture, stages: stages) { job.report($0.fraction) }.picture
    if result.width != target.width || result.height != target.height { result = try result.resized(to: target) }
    return Data(try ImageFile.encode(result, name: "result.png", format: .png))
  }

  func generate(_ request: TextToImageRequest, job: Job) throws -> ([Data], String) {
    guard let model = configuration.stableDiffusion else { throw APIError(.notFound, "this server was started without SD weights") }
    var pipelineConfiguration = TextToImagePipeline.Configuration(model: model)
    (pipelineConfiguration.vocabulary, pipelineConfiguration.device) = (configuration.vocabulary, configuration.device)
    pipelineConfiguration.boost = request.boost ? configuration.defaultModel.map { .model($0) } ?? .defaultModel : .none
    let pipeline = try TextToImagePipeline(pipelineConfiguration)
    let settings = try request.settings(defaults: pipeline.defaults)
    var images: [Data] = [], parameters: [String] = []
    let seeds = (0..<request.count).map { settings.seed &+ UInt64($0) }
    try pipeline.generate(settings, seeds: seeds, progress: { p in
      job.report(p.phase == "sample" ? 0.7 * p.fraction : 0.7 + 0.3 * p.fraction)
    }) { made in
      images.append(Data(try ImageFile.encode(made.image, name: "image.png", range: .symmetric, jpeg: false)))
      parameters.append(made.parameters)
    }
    return (images, parameters.joined(separator: "\n\n"))
  }
}

extension Picture {
  /// Colour and alpha resized (bicubic, antialiased) to `size`.
  func resized(to size: (width: Int, height: Int)) throws -> Picture {
    func resize(_ plane: Tensor) throws -> Tensor {
      try withNoGrad {
        try plane.unsqueeze(dim: 0).interpolate(size: (size.height, size.width), mode: .bicubic, antialias: true).clamp(min: 0, max: 1).squeeze(dim: 0)
      }
    }
    return Picture(color: try resize(color), alpha: try alpha.map(resize), isGrey: isGrey, bitDepth: bitDepth, metadata: metadata)
  }
}
