import FMBoost
import Torch

extension SDUNetConfig {
  /// The shape of an LDM-named SD UNet from its tensors' shapes (a single file holds no config):
  /// widths from the residual blocks, `num_res_blocks` from where the first downsampling sits,
  /// the transformers' levels, depth, context width and projection kind. The number of heads is
  /// not in the shapes: `heads` (SD1.x: 8).
  public init(ldmShapes s: [String: [Int]], heads: Int = 8, file: String) throws {
    self.init()
    func missing(_ key: String) -> TorchError { TorchError.invalidArgument("\(file): the SD UNet has no \(key)") }
    guard let stem = s["input_blocks.0.0.weight"], stem.count == 4 else { throw missing("input_blocks.0.0.weight (4-d)") }
    guard let head = s["out.2.weight"], head.count == 4 else { throw missing("out.2.weight (4-d)") }
    modelChannels = stem[0]
    inChannels = stem[1]
    outChannels = head[0]
    numHeads = heads
    let blockCount = (1...).first { s["input_blocks.\($0).0.in_layers.0.weight"] == nil && s["input_blocks.\($0).0.op.weight"] == nil }!
    let downsamplers = (1..<blockCount).filter { s["input_blocks.\($0).0.op.weight"] != nil }
    numResBlocks = (downsamplers.first ?? blockCount) - 1
    guard numResBlocks >= 1 else { throw missing("residual blocks before its first downsampling") }
    let levels = downsamplers.count + 1
    guard blockCount == 1 + levels * numResBlocks + downsamplers.count else {
      throw TorchError.invalidArgument("\(file): the SD UNet's \(blockCount) input blocks do not form levels of \(numResBlocks) residual blocks")
    }
    channelMult = try (0..<levels).map { level in
      let key = "input_blocks.\(1 + level * (numResBlocks + 1)).0.out_layers.3.weight"
      guard let shape = s[key], shape[0] % modelChannels == 0 else { throw missing(key + " (a multiple of the stem's width)") }
      return shape[0] / modelChannels
    }
    let transformers = (0..<levels).map { "input_blocks.\(1 + $0 * (numResBlocks + 1)).1." }
    attentionResolutions = transformers.enumerated().compactMap { s[$0.element + "proj_in.weight"] != nil ? 1 << $0.offset : nil }
    let first = transformers.first { s[$0 + "proj_in.weight"] != nil } ?? "middle_block.1."
    guard let projIn = s[first + "proj_in.weight"] else { throw missing("spatial transformer (proj_in)") }
    useLinearInTransformer = projIn.count == 2
    guard let toK = s[first + "transformer_blocks.0.attn2.to_k.weight"], toK.count == 2 else { throw missing(first + "transformer_blocks.0.attn2.to_k.weight") }
    contextDim = toK[1]
    transformerDepth = (0...).first { s[first + "transformer_blocks.\($0).norm1.weight"] == nil }!
    timeCondProjDim = s["time_cond_proj.weight"]?.last
  }
}
