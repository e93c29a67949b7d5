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
    public let pipeline: PipelineDefaults
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
    let firstStage: String
    switch config.firstStage {
    case .none: firstStage = "identity"
    case .pixelUnshuffle(let f): firstStage = "pixel-unshuffle-\(f)"
    case .stableDiffusion: firstStage = "sd-vae"
    case .tiny(let encoder, let decoder): firstStage = try AutoencoderLoader.load([encoder, decoder]).kind
    }
    let pipeline = PipelineDefaults(
      firstStage: firstStage, scaleFactor: config.scaleFactor, upsamplingMode: config.upsamplingMode, noisingStep: config.noisingStep,
      startFromNoise: config.startFromNoise, lowResDownsampling: config.downsampling.rawValue,
      method: method ?? config.validationMethod, steps: steps ?? config.validationSteps)
    let prefix = weights == .ema ? "ema_model.ema_model.net." : "model.net."
    let net = TrainingCheckpoint.section(contents.tensors, prefix)
    guard !net.isEmpty else { throw CheckpointError(file: path, "holds no \(prefix)* tensors") }
    let tensors = try net.sorted { $0.key < $1.key }.map { ($0.key, try $0.value.to(dtype).contiguous()) }
    try SafeTensors.write(
      tensors,
      metadata: ["format": format, "config": netConfig, PipelineDefaults.metadataKey: try pipeline.json(),
                 "trained_steps": String(contents.step), "weights": weights.rawValue],
      to: output)
    return Summary(step: contents.step, tensors: tensors.count, bytes: tensors.reduce(0) { $0 + $1.1.elementCount * dtype.byteSize },
                   pipeline: pipeline)
  }
}
