import Checkpoint
import FMBoost
import Foundation
import NN
import TestSupport
import Testing
import Torch

@Suite struct TAESDTests {
  @Test func realTAEF2WeightsMatchTheReference() throws {
    let encoderWeights = try WeightFile.stateDict(Shared.weights("taef2_encoder.pth"))
    let decoderWeights = try WeightFile.stateDict(Shared.weights("taef2_decoder.pth"))
    #expect(try TAESDEncoder.variant(of: encoderWeights, file: "e") == .taef2)
    #expect(try TAESDDecoder.variant(of: decoderWeights, file: "d") == .taef2)
    let encoder = try TAESDEncoder(.taef2, ParameterSource.fresh().root), decoder = try TAESDDecoder(.taef2, ParameterSource.fresh().root)
    try encoder.load(stateDict: encoderWeights, strict: true)
    try decoder.load(stateDict: decoderWeights, strict: true)
    let io = try SafeTensorsFile(path: Shared.golden("taef2.io.safetensors"))
    try withNoGrad {
      let latent = try encoder(io.tensor("image"))
      let decoded = try decoder(io.tensor("latent"))
      for (name, ours) in [("latent", latent), ("decoded", decoded)] {
        let reference = try io.tensor(name)
        let error = try ours.maxAbsDifference(reference)
        print("taef2 parity \(name): max abs error \(error) (reference max \(try reference.abs().max().item()))")
        #expect(error <= 1e-4 * max(1, try reference.abs().max().item()), "\(name)")
      }
    }
  }

  @Test func variantsAreReadFromTheWeights() throws {
    let small = try TAESDEncoder(.taesd, ParameterSource.fresh().root)
    let weights = Dictionary(uniqueKeysWithValues: small.stateDict())
    #expect(try TAESDEncoder.variant(of: weights, file: "x") == .taesd)
    #expect(weights["11.pool.0.weight"] == nil && weights["1.skip.weight"] == nil)
    let decoder = Dictionary(uniqueKeysWithValues: try TAESDDecoder(.taef1, ParameterSource.fresh().root).stateDict())
    #expect(try TAESDDecoder.variant(of: decoder, file: "x") == .taef1)
    #expect(throws: CheckpointError.self) { try TAESDEncoder.variant(of: decoder, file: "x") }
  }
}
