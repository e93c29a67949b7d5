import Checkpoint
import Evaluation
import Foundation
import TestSupport
import Testing
import Torch

/// The FID Inception network against `torch.jit.load` of the same TorchScript file, and FID/KID
/// against pytorch-fid's scipy formula and the unbiased MMD² (fixtures made by
/// benchmarks/fixtures/make_inception_fixture.py and make_fid_fixture.py).
@Suite struct FIDTests {
  /// The network fetched by scripts/fetch-inception.sh (run by `make test`).
  static var inceptionPath: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("data/inception/fid_inception_v3.pt").path
  }

  static func network() throws -> FIDInception {
    guard FileManager.default.fileExists(atPath: inceptionPath) else {
      throw TestFailure("\(inceptionPath) is missing: run scripts/fetch-inception.sh (make test does)")
    }
    return try FIDInception(path: inceptionPath)
  }

  func relative(_ a: Tensor, _ b: Tensor) throws -> Double { try (a - b).abs().max().item() / b.abs().max().item() }

  @Test func featuresMatchTorchScript() throws {
    let fixture = try SafeTensorsFile(path: Shared.fixture("inception_features.safetensors"))
    let net = try Self.network()
    // The network alone, on the stored (float16-rounded) input.
    let fromImage = try net.features(fixture.tensor("image").to(.float32))
    let networkError = try relative(fromImage, fixture.tensor("features_from_image"))
    // The whole pipeline from the 8-bit 256 px crops: preprocessing (TF resize to 299) + network.
    let fromRaw = try net.features(FIDInception.preprocess(fixture.tensor("raw").to(.float32)))
    let pipelineError = try relative(fromRaw, fixture.tensor("features"))
    print("FID Inception: network \(networkError), preprocessing + network \(pipelineError) (max |a − b| / max |b|)")
    #expect(networkError <= 1e-4 && pipelineError <= 1e-4)
  }

  @Test func torchScriptModulesReadAsNestedDicts() throws {
    let names = try TensorFile(path: Self.inceptionPath).allTensors().map(\.0)
    #expect(names.count == 376)
    #expect(names.contains("net/layers/mixed_4/tower/conv_1/weight") && names.contains("net/layers/mixed_10/tower_2_conv/var"))
  }

  @Test(arguments: ["full", "lowrank"])
  func fidAndKIDMatchTheReference(_ name: String) throws {
    let f = try SafeTensorsFile(path: Shared.fixture("fid_reference.safetensors"))
    let a = try f.tensor("\(name).a"), b = try f.tensor("\(name).b")
    let (sa, sb) = (try FeatureStatistics(a), try FeatureStatistics(b))
    #expect(try (sa.covariance - f.tensor("\(name).sigma_a")).abs().max().item() < 1e-10)
    let fid = try frechetDistance(sa, sb), expected = try f.tensor("\(name).fid").item()
    #expect(abs(fid - expected) / expected < 1e-3, "\(name): FID \(fid) vs scipy \(expected)")
    let kid = try KernelInceptionDistance.mmd(a, b), expectedKID = try f.tensor("\(name).kid_full").item()
    #expect(abs(kid - expectedKID) / abs(expectedKID) < 1e-9, "\(name): MMD² \(kid) vs \(expectedKID)")
    // Per subset, with the reference's own subset indices.
    let ia = try f.tensor("\(name).kid_subsets_a"), ib = try f.tensor("\(name).kid_subsets_b")
    let values = try f.tensor("\(name).kid_subset_values").toArray(Double.self)
    for (s, value) in values.enumerated() {
      let mine = try KernelInceptionDistance.mmd(a.indexSelect(dim: 0, ia.select(dim: 0, index: s)), b.indexSelect(dim: 0, ib.select(dim: 0, index: s)))
      #expect(abs(mine - value) <= 1e-9 * max(1, abs(value)))
    }
  }

  /// clean-fid's subset size, min(m, n, 1000): sets smaller than that give the whole sets' MMD²
  /// (19 + 19 samples: every subset is the whole set); a smaller --kid-subset-size gives subsets.
  @Test func kidOfSmallSetsIsTheWholeSetsMMD() throws {
    let g = try Generator(seed: 6)
    let a = try Tensor.randn([19, 8], dtype: .float64, generator: g), b = try Tensor.randn([19, 8], dtype: .float64, generator: g) + 0.3
    let whole = try KernelInceptionDistance.mmd(a, b)
    let kid = try KernelInceptionDistance.estimate(a, b)
    #expect(abs(kid.mean - whole) <= 1e-12 * abs(whole) && kid.std < 1e-12)
    let subsets = try KernelInceptionDistance.estimate(a, b, subsetSize: 9)
    #expect(subsets.std > 0 && abs(subsets.mean - whole) > 1e-9)
  }

  @Test func fidOfASetWithItselfIsZeroAndGrowsWithAShift() throws {
    let g = try Generator(seed: 5)
    let a = try Tensor.randn([300, 16], dtype: .float64, generator: g)
    #expect(abs(try frechetDistance(FeatureStatistics(a), FeatureStatistics(a))) < 1e-8)
    // A mean shift of 0.5 in every one of 16 dimensions adds ‖Δμ‖² = 4 exactly.
    #expect(abs(try frechetDistance(FeatureStatistics(a), FeatureStatistics(a + 0.5)) - 4) < 1e-8)
  }
}

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

@Suite struct PatchFIDTests {
  @Test func anchorsAreSharedAndCropsStayInside() throws {
    let patches = try PatchFID(network: FIDTests.network(), crops: 3, cropSize: 64)
    let a = try patches.anchors(height: 100, width: 80, generator: Generator(seed: 1))
    let b = try patches.anchors(height: 100, width: 80, generator: Generator(seed: 1))
    #expect(a.map(\.y) == b.map(\.y) && a.map(\.x) == b.map(\.x) && a.count == 3)
    #expect(a.allSatisfy { $0.y >= 0 && $0.y <= 36 && $0.x >= 0 && $0.x <= 16 })
    // Identical images give FID ≈ 0; a blurred copy a larger one.
    let image = try Tensor.rand([1, 3, 100, 80], generator: Generator(seed: 2)) * 2 - 1
    let blurred = try image.avgPool2d(kernel: (5, 5), stride: (1, 1), padding: (2, 2))
    for method in ["real", "same", "blurred"] {
      for s in 0..<2 {
        let anchors = try patches.anchors(height: 100, width: 80, generator: Generator(seed: UInt64(10 + s)))
        try patches.add(method == "blurred" ? blurred : image, anchors: anchors, method: method)
      }
    }
    let results = try patches.results(reference: "real")
    let same = try #require(results["same"]), blur = try #require(results["blurred"])
    #expect(abs(same.fid) < 1e-3 && same.samples == 6)
    #expect(blur.fid > 1 && blur.kidMean > same.kidMean)
  }
}
