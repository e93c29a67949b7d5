/// Where a pipeline call is: which item of a batch, which stage, which step. A pipeline reports it
/// to the caller's handler, whose answer says whether to go on (false cancels the call, which then
/// throws `PipelineError.cancelled` at the next step), as apple/ml-stable-diffusion's
/// `generateImages(configuration:progressHandler:)` does.
public struct PipelineProgress: Sendable, Equatable {
  /// What runs now ("upsample", "sample", "decode", "boost", ...).
  public var phase: String
  /// The item of a batch (0-based) and the batch's size.
  public var item = 0, items = 1
  /// The ×2 stage (0-based) and the number of stages.
  public var stage = 0, stages = 1
  /// Network steps done in this stage and item (halo tiles included) and their total.
  public var step = 0, steps = 1

  public init(phase: String, item: Int = 0, items: Int = 1) {
    self.phase = phase
    self.item = item
    self.items = items
  }

  /// The part of the whole call done, 0…1.
  public var fraction: Double {
    let inItem = (Double(stage) + Double(step) / Double(max(1, steps))) / Double(max(1, stages))
    return (Double(item) + inItem) / Double(max(1, items))
  }
}

/// Called at every step; returns false to cancel. Called on the thread that runs the pipeline.
public typealias PipelineProgressHandler = (PipelineProgress) -> Bool

extension PipelineProgress {
  /// Reports `self` and throws `PipelineError.cancelled` when the handler says stop.
  func report(to handler: PipelineProgressHandler?) throws {
    if let handler, !handler(self) { throw PipelineError.cancelled }
  }
}
