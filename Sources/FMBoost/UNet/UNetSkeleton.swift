import NN
import Torch

/// The block lists of LDM's UNet (openaimodel), shared by `EfficientUNet` and `SDUNet`:
/// `input_blocks` (the stem, then per level `num_res_blocks` residual blocks, each followed by the
/// level's attention if any, and a downsampling between levels), `middle_block`, and
/// `output_blocks` (per level from the lowest, `num_res_blocks + 1` residual blocks over the
/// concatenated skip, attention, and an upsampling after the last of every level but the top).
/// Built in this order, so fresh weights are drawn as the original draws them.
public struct UNetSkeleton {
  public let inputBlocks: ModuleList<TimestepEmbedSequential>
  public let middleBlock: TimestepEmbedSequential
  public let outputBlocks: ModuleList<TimestepEmbedSequential>
  /// The width of the last output block.
  public let outChannels: Int

  /// `resBlock(scope, in, out)`; `attention(scope, channels, ds)` (nil where the level has none);
  /// `middle(scope, channels)` the middle block's layers.
  public init(_ p: ModuleScope, stem: (ModuleScope) throws -> Conv2d, modelChannels mc: Int, channelMult: [Int], numResBlocks: Int, convResample: Bool,
       resBlock: (ModuleScope, Int, Int) throws -> ResBlock, attention: (ModuleScope, Int, Int) throws -> Module?,
       middle: (ModuleScope, Int) throws -> [Module]) throws {
    let inputScope = p["input_blocks"]
    var ch = mc
    var blocks = [TimestepEmbedSequential(inputScope[0], [try stem(inputScope[0][0])])]
    var skipChannels = [ch]
    var ds = 1
    for (level, mult) in channelMult.enumerated() {
      for _ in 0..<numResBlocks {
        let block = inputScope[blocks.count]
        var layers: [Module] = [try resBlock(block[0], ch, mult * mc)]
        ch = mult * mc
        if let a = try attention(block[1], ch, ds) { layers.append(a) }
        blocks.append(TimestepEmbedSequential(block, layers))
        skipChannels.append(ch)
      }
      if level != channelMult.count - 1 {
        let block = inputScope[blocks.count]
        blocks.append(TimestepEmbedSequential(block, [try Downsample(block[0], channels: ch, useConv: convResample)]))
        skipChannels.append(ch)
        ds *= 2
      }
    }
    inputBlocks = ModuleList(inputScope, blocks)
    let middleScope = p["middle_block"]
    middleBlock = TimestepEmbedSequential(middleScope, try middle(middleScope, ch))

    let outputScope = p["output_blocks"]
    var upBlocks: [TimestepEmbedSequential] = []
    for (level, mult) in channelMult.enumerated().reversed() {
      for i in 0...numResBlocks {
        let block = outputScope[upBlocks.count]
        var layers: [Module] = [try resBlock(block[0], ch + skipChannels.removeLast(), mc * mult)]
        ch = mc * mult
        if let a = try attention(block[layers.count], ch, ds) { layers.append(a) }
        if level > 0 && i == numResBlocks {
          layers.append(try Upsample(block[layers.count], channels: ch, useConv: convResample))
          ds /= 2
        }
        upBlocks.append(TimestepEmbedSequential(block, layers))
      }
    }
    outputBlocks = ModuleList(outputScope, upBlocks)
    outChannels = ch
  }

  /// Runs the blocks: the input blocks' outputs are the output blocks' skips. `observe` sees each
  /// block's output under its module path (`input_blocks.3`, `middle_block`, `output_blocks.11`).
  public func callAsFunction(_ x: Tensor, _ embedding: Tensor, context: Tensor? = nil,
                      observe: ((String, Tensor) throws -> Void)? = nil) throws -> Tensor {
    var h = x
    var skips: [Tensor] = []
    skips.reserveCapacity(inputBlocks.count)
    for (i, block) in inputBlocks.items.enumerated() {
      h = try block(h, embedding, context: context)
      try observe?("input_blocks.\(i)", h)
      skips.append(h)
    }
    h = try middleBlock(h, embedding, context: context)
    try observe?("middle_block", h)
    for (i, block) in outputBlocks.items.enumerated() {
      // The concatenation replaces h before the block runs, so the block's input is the only copy.
      h = try Tensor.cat([h, skips.removeLast()], dim: 1)
      h = try block(h, embedding, context: context)
      try observe?("output_blocks.\(i)", h)
    }
    return h
  }
}
