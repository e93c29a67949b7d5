import Foundation

extension AblationReport {
  /// The section that reads the study claim by claim: each variant's paired ΔY-PSNR against the
  /// paper's configuration on every input, with each seed's own mean difference (do the seeds
  /// agree?), what the Euler steps change, and each variant's final training loss.
  var claims: [String] { differences + eulerSteps + losses }

  private var differences: [String] {
    let paper = AblationPlan.paperVariant, reference = Self.modelLabel(referenceSteps)
    let y: (AblationResult.Row) -> Double = { $0.psnrY }
    let conditions = plan.conditions.map(\.rawValue)
    var lines = [
      "", "## The claims at a glance", "",
      "ΔY-PSNR (dB) of each variant against the paper's configuration at \(referenceSteps) Euler steps: the paired mean over the photos",
      "with its 95 % interval, then each seed's own mean difference in brackets.", "",
      "| variant | space | training steps | " + conditions.joined(separator: " | ") + " |",
      "|---|---|---:" + String(repeating: "|---:", count: conditions.count) + "|",
    ]
    for variant in plan.variants.map(\.name) where variant != paper {
      for space in plan.spaces.map(\.name) {
        for length in plan.lengths {
          let cells = conditions.map { condition -> String in
            func delta(_ seed: UInt64?) -> Estimate? {
              difference(perPhoto(space, variant, length, condition, reference, y, seed: seed),
                         perPhoto(space, paper, length, condition, reference, y, seed: seed))
            }
            guard let both = delta(nil) else { return "" }
            let seeds = plan.seeds.compactMap { delta($0).map { String(format: "%+.2f", $0.mean) } }
            return both.text(2) + (seeds.count > 1 ? " (" + seeds.joined(separator: ", ") + ")" : "")
          }
          if cells.contains(where: { !$0.isEmpty }) { lines.append("| \(variant) | \(space) | \(length) | " + cells.joined(separator: " | ") + " |") }
        }
      }
    }
    return lines
  }

  private var eulerSteps: [String] {
    let y: (AblationResult.Row) -> Double = { $0.psnrY }
    guard let fewest = plan.eulerSteps.min(), let most = plan.eulerSteps.max(), fewest != most else { return [] }
    let columns = plan.spaces.flatMap { space in plan.lengths.map { (space.name, $0) } }
    var lines = [
      "", "Y-PSNR at \(fewest) Euler step\(fewest == 1 ? "" : "s") minus at \(most), clean inputs (paired over the photos, 95 %), and the patch FID",
      "at \(fewest) and at \(most) (mean over the seeds):", "",
      "| variant | " + columns.map { "\($0.0), \($0.1) steps" }.joined(separator: " | ") + " |",
      "|---" + String(repeating: "|---:", count: columns.count) + "|",
    ]
    for variant in plan.variants.map(\.name) {
      let cells = columns.map { space, length in
        guard let delta = difference(perPhoto(space, variant, length, "clean", Self.modelLabel(fewest), y),
                                     perPhoto(space, variant, length, "clean", Self.modelLabel(most), y)) else { return "" }
        let fid = [fewest, most].map { steps in
          let values = results.filter { $0.space == space && $0.variant == variant && $0.length == length && $0.condition == "clean" }
            .compactMap { $0.perceptual[Self.modelLabel(steps)]?.fid }
          return values.isEmpty ? "–" : String(format: "%.1f", Estimate(values).mean)
        }
        return delta.text(2) + "; FID " + fid.joined(separator: " → ")
      }
      lines.append("| \(variant) | " + cells.joined(separator: " | ") + " |")
    }
    return lines
  }

  /// The loss each variant settles at; the noise augmentation's share of it is the injected
  /// noise's variance wherever the network does not reproduce that noise in its output.
  private var losses: [String] {
    guard !trainingLosses.isEmpty else { return [] }
    let spaces = plan.spaces.map(\.name)
    var lines = [
      "", "Training loss (the velocity's squared error in the scaled latent space) over the last third of training: the mean of the",
      "logged batch losses, mean over the seeds (each seed's value in brackets). Noise augmentation at step k adds 1 − ᾱ[k] to it",
      "(0.346 at step 400, 0.025 at step 100) wherever the network leaves the source's noise in its output.", "",
      "| variant | " + spaces.joined(separator: " | ") + " |",
      "|---" + String(repeating: "|---:", count: spaces.count) + "|",
    ]
    for variant in plan.variants.map(\.name) {
      let cells = spaces.map { space -> String in
        let values = plan.seeds.compactMap { trainingLosses[AblationStudy.Run.name(space: space, variant: variant, seed: $0)] }
        guard !values.isEmpty else { return "" }
        let mean = String(format: "%.4f", Estimate(values).mean)
        return values.count == 1 ? mean : mean + " (" + values.map { String(format: "%.4f", $0) }.joined(separator: ", ") + ")"
      }
      lines.append("| \(variant) | " + cells.joined(separator: " | ") + " |")
    }
    return lines
  }
}
