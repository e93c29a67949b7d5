import Checkpoint
import Foundation
import Torch

/// SD1.5-topology test models from `golden-sd` and `golden/vae_a`, written as users hold them.
public enum TinyStableDiffusion {
  public static let goldenSD = Shared.root + "/golden-sd/"
  /// openai/CLIP's BPE vocabulary, fetched by `make clip-vocab`.
  public static let vocabulary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data/clip/bpe_simple_vocab_16e6.txt.gz").path

  public static func tensors(_ path: String, prefix: String = "") throws -> [(String, Tensor)] {
    try TensorFile(path: path).stateDict().map { (prefix + $0.0, $0.1) }
  }

  /// The tiny UNet (fp16, LDM keys), text encoder (with `position_ids`) and `vae_a` autoencoder as
  /// one SD single file, with `model_ema.*` entries; `dropping` keys left out, then `extra` added.
  public static func singleFile(extra: [(String, Tensor)] = [], dropping: (String) -> Bool = { _ in false }) throws -> String {
    let url = try temporaryDirectory("sd-single").appendingPathComponent("tiny-sd15.safetensors")
    try SafeTensors.write(try singleFileTensors().filter { !dropping($0.0) } + extra, to: url)
    return url.path
  }

  static func singleFileTensors() throws -> [(String, Tensor)] {
    try tensors(goldenSD + "sd_unet_tiny.ldm.safetensors") + tensors(goldenSD + "clip_text_tiny.ldm.safetensors")
      + tensors(Shared.golden("vae_a.weights.safetensors"), prefix: "first_stage_model.")
      + [("model_ema.decay", try Tensor([Float(0.9999)])), ("model_ema.num_updates", try Tensor([Float(1)]))]
  }

  /// The same single file as a `.ckpt` (torch.save's zip, the tensors under `state_dict`, as SD
  /// checkpoints are saved), every tensor as float32.
  public static func singleCheckpoint() throws -> String {
    let url = try temporaryDirectory("sd-ckpt").appendingPathComponent("tiny-sd15.ckpt")
    let all = try singleFileTensors()
    var pickle = PickleBuilder(), storages: [String: Data] = [:]
    pickle.emptyDict()
    pickle.string("state_dict")
    pickle.emptyDict()
    pickle.mark()
    for (i, (key, tensor)) in all.enumerated() {
      let values = try tensor.to(.float32).contiguous().toArray(Float.self)
      storages["\(i)"] = values.withUnsafeBufferPointer { Data(buffer: $0) }
      let shape = tensor.shape.map(Int64.init)
      let strides = shape.indices.map { d in shape[(d + 1)...].reduce(Int64(1), *) }
      pickle.string(key)
      pickle.tensor(storageKey: "\(i)", numel: Int64(values.count), shape: shape, strides: strides)
    }
    pickle.setItems()
    pickle.setItem()  // state_dict → the dict above
    pickle.stop()
    try PickleBuilder.torchZip(pickle: pickle.bytes, storages: storages).write(to: url)
    return url.path
  }
}
