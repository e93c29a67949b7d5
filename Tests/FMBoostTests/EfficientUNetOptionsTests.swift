import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// The constructor options unet_a does not exercise, against the PyTorch re-statement
/// (benchmarks/models.py) run by benchmarks/fixtures/make_unet_options_fixture.py:
/// `Tests/Fixtures/unet_options.safetensors` holds, per variant, the config (`<variant>.config`), the
/// state_dict keys in the original's names (`<variant>.keys`) and v = net(cat(x, context), t)
/// (`<variant>.v`). Weights are shared float16 values: `<variant>.weights.<key>` where the variant's
/// shape differs, otherwise `weights.<key>`. Every parameter is random (no zero-initialised layers).
@Suite struct EfficientUNetOptionsTests {
  static func variantUNet(_ variant: String, _ file: SafeTensorsFile) throws -> EfficientUNet {
    let config = try JSONDecoder().decode(
      EfficientUNetConfig.self, from: Data(try #require(file.metadata["\(variant).config"]).utf8))
    let keys = try JSONDecoder().decode([String].self, from: Data(try #require(file.metadata["\(variant).keys"]).utf8))
    var state: [String: Tensor] = [:]
    for key in keys {
      let own = "\(variant).weights.\(key)"
      state[key] = try file.tensor(file.entries[own] != nil ? own : "weights.\(key)")
    }
    let net = try EfficientUNet(config)
    let ours = Set(net.stateDict().map { $0.0 }), theirs = Set(keys)
    #expect(ours == theirs, "\(variant): keys only ours \(ours.subtracting(theirs).sorted()), only the reference's \(theirs.subtracting(ours).sorted())")
    try net.load(stateDict: state, strict: true)
    net.eval()
    return net
  }

  @Test(arguments: ["linear_attn", "no_scale_shift", "pool2", "no_conv_resample"])
  func variantForwardMatchesPyTorch(_ variant: String) throws {
    let file = try SafeTensorsFile(path: Shared.fixture("unet_options.safetensors"))
    let net = try Self.variantUNet(variant, file)
    let v = try withNoGrad { try net(file.tensor("x"), t: file.tensor("t"), context: file.tensor("context")) }
    let reference = try file.tensor("\(variant).v")
    #expect(v.shape == reference.shape)
    let error = try v.maxAbsDifference(reference), scale = try reference.abs().max().item()
    print("\(variant): max |v - v_ref| = \(error) (reference max |v| = \(scale))")
    #expect(error <= 1e-4, "\(variant): max |v - v_ref| = \(error)")
  }
}
