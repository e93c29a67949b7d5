import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

@Suite struct AutoencoderKLTests {
  static func goldenVAE() throws -> AutoencoderKL {
    let weights = try SafeTensorsFile(path: Shared.golden("vae_a.weights.safetensors"))
    let config = try JSONDecoder().decode(AutoencoderKLConfig.self, from: Data(try #require(weights.metadata["config"]).utf8))
    let vae = try AutoencoderKL(config)
    try vae.load(stateDict: try weights.tensors(), strict: true)
    vae.eval()
    return vae
  }

  /// How the convolutions run: as at 1024 px (`winograd`: every 3×3 one of 16+ channels by oneDNN's
  /// Winograd kernel, normalisation and upsampling fused into it, band by band; `bands`: every one
  /// in bands of a row or two, fused the same way) or as the defaults choose at 32 px (libtorch's).
  enum ConvolutionPath: String, CaseIterable, Sendable { case defaults, winograd, bands }

  @Test(arguments: ConvolutionPath.allCases) func goldenEncodeAndDecodeMatchPyTorch(_ path: ConvolutionPath) throws {
    let vae = try Self.goldenVAE()
    let io = try SafeTensorsFile(path: Shared.golden("vae_a.io.safetensors"))
    let (pixels, bandBytes) = switch path {
    case .defaults: (Runtime.winogradMinimumPixels, Runtime.convolutionBandThreshold)
    case .winograd: (1, 0)
    case .bands: (0, 1024)
    }
    let before = Runtime.winogradConvolutions
    defer { if path == .winograd && Runtime.winogradAvailable { #expect(Runtime.winogradConvolutions > before + 10) } }
    try withRuntime(\.winogradMinimumPixels, pixels) { try withRuntime(\.convolutionBandThreshold, bandBytes) { try withNoGrad {
      let posterior = try vae.posterior(io.tensor("image"))
      let decoded = try vae.decode(io.tensor("mean"))
      for (name, ours) in [("mean", posterior.mean), ("logvar", posterior.logvar), ("decoded", decoded)] {
        let reference = try io.tensor(name)
        let error = try ours.maxAbsDifference(reference)
        print("vae_a parity (\(path)) \(name): max abs error \(error) (reference max \(try reference.abs().max().item()))")
        #expect(error <= 1e-4 * max(1, try reference.abs().max().item()), "\(name)")
      }
    } } }
  }

  @Test func legacyAndZipCheckpointsLoadStrictly() throws {
    for name in ["vae_a_flat.ckpt", "vae_a_flat_legacy.ckpt"] {
      let weights = try SafeTensorsFile(path: Shared.golden("vae_a.weights.safetensors"))
      let config = try JSONDecoder().decode(AutoencoderKLConfig.self, from: Data(try #require(weights.metadata["config"]).utf8))
      let vae = try AutoencoderKL(config)
      let stateDict = Dictionary(uniqueKeysWithValues: try TensorFile(path: Shared.golden(name)).stateDict())
      try vae.load(stateDict: stateDict, strict: true)
    }
  }

  @Test func stableDiffusionTreeMatchesTheReferenceShapes() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Shared.golden("sd_vae.shapes.json")))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let expected = try #require(json["tensors"] as? [String: [Int]])
    let config = try JSONDecoder().decode(AutoencoderKLConfig.self, from: JSONSerialization.data(withJSONObject: try #require(json["config"])))
    #expect(config == .stableDiffusion)
    let vae = try AutoencoderKL(config, device: .meta)
    let ours = Dictionary(uniqueKeysWithValues: vae.stateDict().map { ($0.0, $0.1.shape) })
    #expect(Set(ours.keys) == Set(expected.keys))
    for (key, shape) in expected { #expect(ours[key] == shape, "\(key)") }
    #expect(vae.parameterCount == 83_653_863)
    #expect(expected.count == 248)
  }
}
