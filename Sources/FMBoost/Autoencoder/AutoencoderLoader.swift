import Checkpoint
import Foundation
import NN
import Torch

/// Builds the right autoencoder from the files a user names: the SD autoencoder (`sd_ae.ckpt`,
/// flat or under `state_dict`, LDM or diffusers layout, or safetensors), or a TAESD-family
/// encoder and/or decoder (`.pth` or safetensors). The kind is read from the keys.
public enum AutoencoderLoader {
  public static func load(_ paths: [String], config: AutoencoderKLConfig? = nil, device: Device = .cpu) throws -> any LatentAutoencoder {
    guard !paths.isEmpty, paths.count <= 2 else {
      throw TorchError.invalidArgument("an autoencoder is one file (SD's) or an encoder,decoder pair (TAESD family), got \(paths.count) files")
    }
    var tinyEncoder: TAESDEncoder?, tinyDecoder: TAESDDecoder?
    for path in paths {
      var stateDict = try WeightFile.stateDict(path)
      if stateDict["encoder.conv_in.weight"] != nil || stateDict["decoder.conv_in.weight"] != nil {
        guard paths.count == 1 else { throw CheckpointError(file: path, "an SD autoencoder file is the whole autoencoder: it takes no second file") }
        var c = try config ?? WeightFile.config(AutoencoderKLConfig.self, in: path) ?? .stableDiffusion
        if DiffusersVAEKeys.isDiffusersLayout(stateDict.keys) {
          stateDict = try DiffusersVAEKeys.toLDM(stateDict, levels: c.chMult.count)
        }
        // A first stage trained without double_z or with another latent width shows it in its shapes.
        if let quant = stateDict["quant_conv.weight"], quant.rank == 4 { c.embedDim = quant.size(0) / 2 }
        let config = c
        return try WeightFile.build(stateDict, file: path, device: device) { try AutoencoderKL(config, $0) }
      } else if stateDict["14.weight"] != nil && stateDict["0.weight"] != nil {
        let variant = try TAESDEncoder.variant(of: stateDict, file: path)
        tinyEncoder = try WeightFile.build(stateDict, file: path, device: device) { try TAESDEncoder(variant, $0) }
      } else if stateDict["1.weight"] != nil && stateDict["19.weight"] != nil {
        let variant = try TAESDDecoder.variant(of: stateDict, file: path)
        tinyDecoder = try WeightFile.build(stateDict, file: path, device: device) { try TAESDDecoder(variant, $0) }
      } else {
        throw CheckpointError(file: path, "not an autoencoder this tool knows (neither SD's AutoencoderKL nor a TAESD-family encoder/decoder)")
      }
    }
    return try TinyAutoencoder(encoder: tinyEncoder, decoder: tinyDecoder)
  }
}

