import FMBoost
import Foundation
import NN
import Testing
import Torch

/// `use_group_norm: false` and `middle_attention: false` (this project's options, the shipped
/// model's): the network is then a function of a bounded neighbourhood, so an image upsampled whole
/// gives, away from its borders, what its crops give.
@Suite struct LocalUNetTests {
  static func config(groupNorm: Bool, middleAttention: Bool) -> EfficientUNetConfig {
    var c = EfficientUNetConfig()
    c.inChannels = 6
    c.outChannels = 3
    c.modelChannels = 32
    c.channelMult = [1, 1]
    c.numResBlocks = 1
    c.attentionResolutions = []
    c.dimHead = 16
    c.numHeads = 2
    c.useLinearAttn = false
    c.useGroupNorm = groupNorm
    c.middleAttention = middleAttention
    return c
  }

  /// Every parameter random (the zero-initialised output layers too), so every path contributes;
  /// weights at 1/√fan-in, so activations keep their scale without the norms.
  static func randomNetwork(_ config: EfficientUNetConfig) throws -> EfficientUNet {
    let net = try EfficientUNet(config)
    let g = try Generator(seed: 7)
    let state = try net.stateDict().map { key, value in
      let fanIn = value.shape.dropFirst().reduce(1, *)
      return (key, try Tensor.randn(value.shape, generator: g) * (value.shape.count > 1 ? 1 / Double(fanIn).squareRoot() : 0.1))
    }
    try net.load(stateDict: Dictionary(uniqueKeysWithValues: state), strict: true)
    net.eval()
    return net
  }

  /// max |v(whole)[window] − v(crop)[window]| for a crop from the top-left corner (both see the
  /// same zero padding there; the window lies 48 px inside the crop's other borders).
  static func cropDifference(_ net: EfficientUNet) throws -> (difference: Double, scale: Double) {
    let g = try Generator(seed: 8)
    let x = try Tensor.randn([1, 3, 128, 128], generator: g), context = try Tensor.randn([1, 3, 128, 128], generator: g)
    let t = try Tensor([0.25] as [Float])
    func crop(_ a: Tensor, _ side: Int) throws -> Tensor { try a.narrow(dim: 2, start: 0, length: side).narrow(dim: 3, start: 0, length: side) }
    return try withNoGrad {
      let whole = try crop(net(x, t: t, context: context), 48)
      let cropped = try crop(net(crop(x, 96), t: t, context: crop(context, 96)), 48)
      return (try whole.maxAbsDifference(cropped), try whole.abs().max().item())
    }
  }

  @Test func withoutGroupNormAndMiddleAttentionCropsGiveWhatTheWholeGives() throws {
    let (difference, scale) = try Self.cropDifference(Self.randomNetwork(Self.config(groupNorm: false, middleAttention: false)))
    #expect(scale > 0.1)
    print("local network: max difference \(difference) (max |v| \(scale))")
    #expect(difference <= 1e-5 * scale, "max difference \(difference) (max |v| \(scale))")
  }

  @Test(arguments: [(true, false), (false, true)])
  func eitherGlobalOperationMakesCropsDiffer(_ groupNorm: Bool, _ middleAttention: Bool) throws {
    let (difference, scale) = try Self.cropDifference(Self.randomNetwork(Self.config(groupNorm: groupNorm, middleAttention: middleAttention)))
    #expect(difference > 1e-3 * scale, "group norm \(groupNorm), middle attention \(middleAttention): max difference \(difference) (max |v| \(scale))")
  }

  @Test func keysLoseOnlyTheNormsAndTheMiddleAttention() throws {
    let full = Set(try EfficientUNet(Self.config(groupNorm: true, middleAttention: true), device: .meta).stateDict().map { $0.0 })
    let local = Set(try EfficientUNet(Self.config(groupNorm: false, middleAttention: false), device: .meta).stateDict().map { $0.0 })
    let norms = full.filter { $0.contains("in_layers.0.") || $0.contains("out_layers.0.") || $0.hasPrefix("out.0.") }
    #expect(norms.count == 2 * 2 * 8 + 2)  // weight and bias of 2 norms in each of 8 residual blocks, and out.0
    // Without the attention (middle_block.1) the second residual block moves from index 2 to 1.
    let renamed = Set(full.subtracting(norms).filter { !$0.hasPrefix("middle_block.1.") }.map {
      $0.hasPrefix("middle_block.2.") ? "middle_block.1." + $0.dropFirst("middle_block.2.".count) : $0
    })
    #expect(local == renamed)
  }

  @Test func configsWithoutTheKeysDecodeAsTheOriginal() throws {
    let old = try JSONDecoder().decode(EfficientUNetConfig.self, from: Data(#"{"model_channels": 64}"#.utf8))
    #expect(old.useGroupNorm && old.middleAttention)
    let local = Self.config(groupNorm: false, middleAttention: false)
    let json = try JSONEncoder().encode(local)
    let text = String(decoding: json, as: UTF8.self)
    #expect(text.contains(#""use_group_norm":false"#) && text.contains(#""middle_attention":false"#))
    #expect(try JSONDecoder().decode(EfficientUNetConfig.self, from: json) == local)
  }
}
