import Torch

extension AutoencoderKLConfig {
  /// The shape of an LDM-named AutoencoderKL from its tensors' shapes (for files without a config).
  public init(ldmShapes s: [String: [Int]], file: String) throws {
    self.init()
    func require(_ key: String) throws -> [Int] {
      guard let shape = s[key], shape.count >= 1 else { throw TorchError.invalidArgument("\(file): the autoencoder has no \(key)") }
      return shape
    }
    let stem = try require("encoder.conv_in.weight")
    ch = stem[0]
    inChannels = stem[1]
    outCh = try require("decoder.conv_out.weight")[0]
    let levels = (0...).first { s["encoder.down.\($0).block.0.conv1.weight"] == nil }!
    guard levels >= 1 else { _ = try require("encoder.down.0.block.0.conv1.weight"); return }
    chMult = try (0..<levels).map { try require("encoder.down.\($0).block.0.conv2.weight")[0] / ch }
    numResBlocks = (0...).first { s["encoder.down.0.block.\($0).conv1.weight"] == nil }!
    attnResolutions = (0..<levels).compactMap { s["encoder.down.\($0).attn.0.q.weight"] != nil ? resolution >> $0 : nil }
    zChannels = try require("decoder.conv_in.weight")[1]
    doubleZ = try require("encoder.conv_out.weight")[0] == 2 * zChannels
    embedDim = try require("post_quant_conv.weight")[0]
  }
}
