import Foundation

public enum TrainingError: Error, CustomStringConvertible {
  case nonFiniteLoss(step: Int, value: Double)
  case checkpointFailed(String, step: Int, reason: String)
  case checkpointFolder(String, reason: String)

  public var description: String {
    switch self {
    case .nonFiniteLoss(let step, let value):
      return "the loss became \(value) at step \(step + 1); training stopped and the last good checkpoint is kept (lower the learning rate or enable gradient clipping)"
    case .checkpointFailed(let path, let step, let reason):
      return "\(path): could not write the checkpoint at step \(step) (\(reason)); training stopped, earlier checkpoints are intact"
    case .checkpointFolder(let path, let reason):
      return "\(path): cannot hold checkpoints (\(reason)); nothing was trained"
    }
  }
}
