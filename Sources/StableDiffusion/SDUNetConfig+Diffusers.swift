import FMBoost
import Foundation
import Torch

extension SDUNetConfig {
  /// The shape a diffusers `unet/config.json` (UNet2DConditionModel) describes, for the SD1.x
  /// family: block widths that are multiples of the first, `CrossAttn*` blocks where the
  /// transformers are, `attention_head_dim` meaning the number of heads (diffusers' SD1 naming).
  public init(diffusers json: [String: Any], source: String) throws {
    func ints(_ key: String) -> [Int]? { json[key] as? [Int] }
    func int(_ key: String) -> Int? { json[key] as? Int }
    self.init()
    guard let widths = ints("block_out_channels"), let first = widths.first, first > 0,
          widths.allSatisfy({ $0 % first == 0 }) else {
      throw TorchError.invalidArgument("\(source): block_out_channels must be a list of multiples of its first entry")
    }
    modelChannels = first
    channelMult = widths.map { $0 / first }
    inChannels = int("in_channels") ?? 4
    outChannels = int("out_channels") ?? 4
    numResBlocks = int("layers_per_block") ?? 2
    contextDim = int("cross_attention_dim") ?? 768
    if let heads = int("num_attention_heads") ?? int("attention_head_dim") {
      numHeads = heads
    } else if let heads = ints("attention_head_dim") ?? ints("num_attention_heads"), Set(heads).count == 1 {
      numHeads = heads[0]
    } else {
      throw TorchError.invalidArgument("\(source): attention_head_dim must be one number of heads for an SD1.x UNet")
    }
    if let depth = int("transformer_layers_per_block") { transformerDepth = depth }
    useLinearInTransformer = json["use_linear_projection"] as? Bool ?? false
    timeCondProjDim = int("time_cond_proj_dim")
    let types = (json["down_block_types"] as? [String]) ?? ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    guard types.count == widths.count else { throw TorchError.invalidArgument("\(source): down_block_types and block_out_channels differ in length") }
    attentionResolutions = types.enumerated().compactMap { $0.element.hasPrefix("CrossAttn") ? 1 << $0.offset : nil }
  }
}
