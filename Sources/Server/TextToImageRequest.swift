import Foundation
import StableDiffusion

/// A1111's txt2img request, the fields this server honours; the rest are ignored as A1111 ignores
/// what its scripts do not use.
public struct TextToImageRequest: Codable, Sendable {
  public var prompt: String
  public var negative_prompt: String?
  public var steps: Int?
  public var cfg_scale: Double?
  public var seed: Int?
  public var sampler_name: String?
  public var width: Int?
  public var height: Int?
  public var batch_size: Int?
  /// A1111's hires fix: here the CFM ×2 boost with the default model.
  public var enable_hr: Bool?

  var count: Int { batch_size ?? 1 }
  var boost: Bool { enable_hr ?? false }

  /// A1111's sampler names, and this project's.
  static let samplers: [String: (SamplerKind, karras: Bool)] = [
    "DDIM": (.ddim, false), "Euler": (.euler, false), "Euler a": (.eulerAncestral, false), "DPM++ 2M": (.dpmSolver, false),
    "DPM++ 2M Karras": (.dpmSolver, true), "Euler Karras": (.euler, true), "LCM": (.lcm, false),
  ].merging(SamplerKind.allCases.map { ($0.rawValue, ($0, false)) }) { a, _ in a }

  /// Checks every field; the error names it.
  func validate() throws {
    guard !prompt.isEmpty || negative_prompt != nil else { throw APIError(.badRequest, "prompt is empty") }
    if let steps, !(1...150).contains(steps) { throw APIError(.badRequest, "steps must be 1…150, got \(steps)") }
    if let cfg_scale, !(cfg_scale.isFinite && cfg_scale >= 0 && cfg_scale <= 30) { throw APIError(.badRequest, "cfg_scale must be 0…30, got \(cfg_scale)") }
    for (name, value) in [("width", width), ("height", height)] {
      if let value, !(64...1024).contains(value) || value % 8 != 0 { throw APIError(.badRequest, "\(name) must be a multiple of 8 in 64…1024, got \(value)") }
    }
    if let batch_size, !(1...8).contains(batch_size) { throw APIError(.badRequest, "batch_size must be 1…8, got \(batch_size)") }
    if let sampler_name, Self.samplers[sampler_name] == nil {
      throw APIError(.badRequest, "unknown sampler_name '\(sampler_name)'; this server has \(Self.samplers.keys.sorted().joined(separator: ", "))")
    }
  }

  func settings(defaults: (sampler: SamplerKind, steps: Int, guidance: Double)) throws -> TextToImageSettings {
    let sampler = sampler_name.flatMap { Self.samplers[$0] } ?? (defaults.sampler, false)
    // A1111's seed −1 draws one.
    let seed = seed.flatMap { $0 >= 0 ? UInt64($0) : nil } ?? UInt64.random(in: 0..<(1 << 32))
    var s = TextToImageSettings(prompt: prompt, sampler: sampler.0, steps: steps ?? defaults.steps, guidance: cfg_scale ?? defaults.guidance, seed: seed)
    s.negativePrompt = negative_prompt ?? ""
    (s.width, s.height, s.karras) = (width ?? 512, height ?? 512, sampler.karras)
    return s
  }
}
