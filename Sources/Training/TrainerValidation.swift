import Evaluation
import FMBoost
import Foundation
import Imaging
import Torch

/// Validation, as the original's `validation_step`: the flow sampled from validation batches, PSNR/SSIM/MSE, patch FID
/// and KID when asked for, a grid of samples; logged to CSV and TensorBoard.
extension Trainer {
  func validate(csv: CSVLog, board: TensorBoardWriter) throws {
    let sampler = config.useEMAForSampling ? emaFlow : flow
    var psnr: [Double] = [], ssim: [Double] = [], mse: [Double] = []
    var rows: [Tensor] = []
    let patches = try inception.map { try PatchFID(network: $0, crops: config.metricCrops, cropSize: config.metricCropSize) }
    try withNoGrad {
      for (i, batch) in try data.validationBatches(batchSize: config.validationBatchSize, limit: config.validationBatches).enumerated() {
        let images = try batch.image.placed(on: device)
        let generator = try Generator(seed: config.seed &+ 0x2000_0000 &+ UInt64(i))
        let (_, x0, context) = try sourceAndTarget(batch, generator: generator)
        let useContext = config.takesContext
        let solution = try sampler.sample(from: x0, context: useContext ? context : nil,
                                          FlowSampling(method: config.validationMethod, steps: config.validationSteps))
        let prediction = try fromAutoencoderRange(pixelSpace.decode(solution.final))
        psnr.append(try ImageMetrics.psnr(prediction, images))
        ssim.append(try ImageMetrics.ssim(prediction, images))
        mse.append(try ImageMetrics.mse(prediction, images))
        if let patches {
          // The original's anchors: drawn per image, the same crop of the target and the prediction.
          for j in 0..<images.size(0) {
            let anchors = try patches.anchors(height: images.size(2), width: images.size(3), generator: Generator(seed: config.seed &+ UInt64(i * 1000 + j)))
            try patches.add(images[j].unsqueeze(dim: 0), anchors: anchors, method: "real")
            try patches.add(prediction[j].unsqueeze(dim: 0), anchors: anchors, method: "prediction")
          }
        }
        let lowRes = try config.lowResImage(images).interpolate(size: (config.highResSize, config.highResSize), mode: .bilinear)
        for j in 0..<images.size(0) where rows.count < config.imagesToVisualise {
          rows.append(try Tensor.cat([images[j], lowRes[j], prediction[j]], dim: 2))
        }
      }
    }
    guard !psnr.isEmpty else { return }
    let (p, s, m) = (psnr.reduce(0, +) / Double(psnr.count), ssim.reduce(0, +) / Double(ssim.count), mse.reduce(0, +) / Double(mse.count))
    var perceptual: PatchFID.Result?
    do {
      perceptual = try patches.flatMap { try $0.results(reference: "real")["prediction"] }
    } catch {
      options.log("validation: no patch FID (\(error))")
    }
    let fidText = perceptual.map { String(format: "  patch FID %.2f  KID %.4f ± %.4f (%d crops)", $0.fid, $0.kidMean, $0.kidStd, $0.samples) } ?? ""
    options.log(String(format: "validation at step %d: PSNR %.2f dB  SSIM %.4f  MSE %.5f%@ (rows: high-res | low-res | prediction)", step, p, s, m, fidText))
    try csv.append(["step": "\(step)", "val_psnr": "\(p)", "val_ssim": "\(s)", "val_mse": "\(m)",
                    "val_fid": perceptual.map { "\($0.fid)" } ?? "", "val_kid": perceptual.map { "\($0.kidMean)" } ?? ""])
    if let perceptual {
      try board.scalar("val/fid", perceptual.fid, step: step)
      try board.scalar("val/kid", perceptual.kidMean, step: step)
    }
    try board.scalar("val/psnr", p, step: step)
    try board.scalar("val/ssim", s, step: step)
    try board.scalar("val/mse", m, step: step)
    guard !rows.isEmpty else { return }
    let grid = try Tensor.cat(rows, dim: 1).toHost()
    let path = options.runDirectory.appendingPathComponent(String(format: "samples/step%06d.png", step)).path
    try ImageFile.write(grid, to: path, range: .symmetric)
    let png = try ImageFile.encode(grid, name: path, range: .symmetric, jpeg: false)
    try board.image("val/samples", png: png, height: grid.size(1), width: grid.size(2), step: step)
  }
}
