import FMBoost
import Foundation
import Pipelines
import Torch

/// The CFM models the server offers, by name: the default model (and the shipped ×4 one where it
/// was made), and every `.safetensors` in the model folder. Each is loaded on first use and kept.
final class Upscalers: @unchecked Sendable {
  static let defaultName = "FMBoost"
  static let default4xName = "FMBoost 4x"

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
    if configuration.defaultModel == nil, let path = DefaultModel.made(scale: 4) {
      entries.append(Entry(name: Self.default4xName, model_name: "default-4x", model_path: path, model_url: nil, scale: 4))
    }
    if let folder = configuration.modelFolder {
      let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }.sorted()
      entries += files.map { file in
        let (name, path) = ((file as NSString).deletingPathExtension, (folder as NSString).appendingPathComponent(file))
        return Entry(name: name, model_name: name, model_path: path, model_url: nil, scale: Double((try? FlowModelLoader.recipe(of: path).scale) ?? 2))
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

  /// The pipeline of `name`, loaded on first use; for sides more than twice larger, the default
  /// model's name means the shipped ×4 model where there is one.
  func pipeline(_ name: String?, factor: Double = 2) throws -> UpsamplingPipeline {
    var entry = try entry(name)
    if entry.name == Self.defaultName, factor > 2, let x4 = entries.first(where: { $0.name == Self.default4xName }) { entry = x4 }
    if let pipeline = lock.withLock({ loaded[entry.name] }) { return pipeline }
    var configuration = UpsamplingPipeline.Configuration(model: entry.model_path)
    configuration.device = device
    let pipeline = try UpsamplingPipeline(configuration)
    lock.withLock { loaded[entry.name] = pipeline }
    return pipeline
  }
}
