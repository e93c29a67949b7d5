import Imaging
import Torch

extension Upsampler {
  /// Upsamples a picture as displayed by `stages` stages of the model's scale: its colour through the flow
  /// (in the first stage's pixel range), its alpha plane by bicubic interpolation to the output
  /// size (one resize of the original alpha, however many stages), and its grey-ness, bit depth and
  /// metadata carried to the result. `onStage(s)` is called before stage s.
  public func upsample(picture: Picture, stages: Int, generator: Generator? = nil,
                       onStage: ((Int) -> Void)? = nil) throws -> (picture: Picture, evaluations: Int) {
    let range = pixelSpace.autoencoder.pixelRange
    let input = try (range == .unit ? picture.color : picture.color * 2 - 1).unsqueeze(dim: 0)
    let result = try cascade(image: input, stages: stages, generator: generator, onStage: onStage)
    let color = try result.image.squeeze(dim: 0).to(.float32).toHost()
    if range == .symmetric {  // in place: the output is the largest tensor of a run
      try color.add_(1)
      try color.div_(2)
    }
    let size = (color.size(1), color.size(2))
    let alpha = try picture.alpha.map { plane in
      try withNoGrad { try plane.unsqueeze(dim: 0).interpolate(size: size, mode: .bicubic).clamp(min: 0, max: 1).squeeze(dim: 0) }
    }
    let output = Picture(color: color, alpha: alpha, isGrey: picture.isGrey, bitDepth: picture.bitDepth, metadata: picture.metadata)
    return (output, result.evaluations)
  }
}
