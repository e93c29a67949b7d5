import FMBoost
import Foundation
import Pipelines
import Torch

/// The CFM models the server offers, by name: the default model, and every `.safetensors` in the
/// model folder. Each is loaded on first use and kept.
final class Upscalers: @unchecked Sendable {
  static let defaultName = "FMBoost"

  struct Entry: Codable, Sendable {
    let name: String
    let model_name: String
    let model_path: String
    let model_url: String?
    let scale: Double
  }

  let entries: [Entry]
  let device: Device
  private var loaded: [String: UpsamplingPipeline] = [:]
  private let lock = NSLock()

  init(configuration: ServerConfiguration) throws {
    var entries = [Entry(name: Self.defaultName, model_name: "default-2x", model_path: try configuration.defaultModel ?? DefaultModel.path(),
                         model_url: nil, scale: 2)]
    if let folder = configuration.modelFolder {
      let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }.sorted()
      entries += files.map { file in
        let name = (file as NSString).deletingPathExtension
        return Entry(name: name, model_name: name, model_path: (folder as NSString).appendingPathComponent(file), model_url: nil, scale: 2)
      }
    }
    (self.entries, device) = (entries, configuration.device)
  }

  /// The entry of `name` (nil, empty or A1111's "None": the default model); a name this server does
  /// not have is a 400 listing those it has.
  func entry(_ name: String?) throws -> Entry {
    let name = name.flatMap { $0.isEmpty || $0 == "None" ? nil : $0 } ?? Self.defaultName
    guard let entry = entries.first(where: { $0.name == name }) else {
      throw APIError(.badRequest, "unknown upscaler '\(name)'; this server has \(entries.map(\.name).joined(separator: ", "))")
    }
    return entry
  }

  /// The pipeline of `name`, loaded on first use.
  func pipeline(_ name: String?) throws -> UpsamplingPipeline {
    let entry = try entry(name)
    if let pipeline = lock.withLock({ loaded[entry.name] }) { return pipeline }
    var configuration = UpsamplingPipeline.Configuration(model: entry.model_path)
    configuration.device = device
    let pipeline = try UpsamplingPipeline(configuration)
    lock.withLock { loaded[entry.name] = pipeline }
    return pipeline
  }
}
