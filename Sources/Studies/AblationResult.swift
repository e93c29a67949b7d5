import Evaluation
import Foundation
import Pipelines

/// One run, length and condition of the study, as stored in `results/`: every photo's scores by
/// every method, and each method's patch FID/KID.
public struct AblationResult: Codable, Sendable {
  public struct Row: Codable, Sendable {
    public let image: String, method: String
    public let psnrY: Double, ssimY: Double, psnr: Double, ssim: Double
  }

  public struct Perceptual: Codable, Sendable {
    public let fid: Double, kid: Double, kidStd: Double
  }

  public let run: String, space: String, variant: String
  public let seed: UInt64
  public let length: Int
  public let condition: String
  public let rows: [Row]
  public let perceptual: [String: Perceptual]

  init(run: String, space: String, variant: String, seed: UInt64, length: Int, condition: String, report: EvaluationPipeline.Report) {
    (self.run, self.space, self.variant, self.seed, self.length, self.condition) = (run, space, variant, seed, length, condition)
    rows = report.scores.map { Row(image: $0.image, method: $0.method, psnrY: $0.psnrY, ssimY: $0.ssimY, psnr: $0.psnr, ssim: $0.ssim) }
    perceptual = report.perceptual.mapValues { Perceptual(fid: $0.fid, kid: $0.kidMean, kidStd: $0.kidStd) }
  }

  /// Every result file under `folder/results`.
  public static func load(from folder: URL) throws -> [AblationResult] {
    let directory = folder.appendingPathComponent("results")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return try names.filter { $0.hasSuffix(".json") }.sorted().map {
      try JSONDecoder().decode(AblationResult.self, from: Data(contentsOf: directory.appendingPathComponent($0)))
    }
  }
}
