import Checkpoint
import FMBoost
import Foundation
import Torch

/// A training checkpoint reduced to what inference needs: one copy of the flow network's weights
/// (bare EfficientUNet keys), its architecture (`config`) and the settings it was trained with
/// (`pipeline`), so `fmboost upsample --model FILE` needs no other flag.
public enum ModelExport {
  public static let format = "fmboost-model-1"

  public struct Summary {
    public let step: Int
    public let tensors: Int
    public let bytes: Int
    public let recipe: UpsamplingRecipe
  }

  public static func export(
    checkpoint path: String, to output: URL, weights: StateDictSelection.Weights = .ema, dtype: DType = .float32,
    method: ODEMethod? = nil, steps: Int? = nil
  ) throws -> Summary {
    let contents = try TrainingCheckpoint.load(path)
    guard let yaml = contents.metadata["training_config"], let netConfig = contents.metadata["config"] else {
      throw CheckpointError(file: path, "holds no training config; was it written by fmboost train?")
    }
    let config = try TrainingConfig(try ConfigTree(yaml: yaml, source: "\(path) (training_config)"))
    let recipe = try config.recipe(method: method, steps: steps)
    let prefix = weights == .ema ? "ema_model.ema_model.net." : "model.net."
    let net = TrainingCheckpoint.section(contents.tensors, prefix)
    guard !net.isEmpty else { throw CheckpointError(file: path, "holds no \(prefix)* tensors") }
    let tensors = try net.sorted { $0.key < $1.key }.map { ($0.key, try $0.value.to(dtype).contiguous()) }
    try SafeTensors.write(
      tensors,
      metadata: ["format": format, "config": netConfig, UpsamplingRecipe.metadataKey: try recipe.json(),
                 "trained_steps": String(contents.step), "weights": weights.rawValue],
      to: output)
    return Summary(step: contents.step, tensors: tensors.count, bytes: tensors.reduce(0) { $0 + $1.1.elementCount * dtype.byteSize },
                   recipe: recipe)
  }
}
