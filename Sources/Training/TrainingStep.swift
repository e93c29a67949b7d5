import FMBoost
import Foundation
import NN
import Torch

/// One optimiser step of the original's `training_step`: the draws of t and noise, the batch contract (target,
/// source, context), the loss, the EMA update before backward, accumulation, clipping, Adam.
extension Trainer {
  /// Per-sample t = u^timestep_power, u ~ U(0, 1), and augmentation noise (one latent's shape) for
  /// samples first..<first+count, drawn on the CPU and placed on the trainer's device.
  public func sampleDraws(first: Int, count: Int) throws -> (t: Tensor, noise: [Tensor]) {
    let latentShape = [config.net.outChannels, config.highResSize / pixelSpace.autoencoder.downsamplingFactor,
                       config.highResSize / pixelSpace.autoencoder.downsamplingFactor]
    var t: [Tensor] = [], noise: [Tensor] = []
    for k in first..<(first + count) {
      let g = try Generator(seed: config.seed ^ (UInt64(k) &* 0x94D0_49BB_1331_11EB) ^ 0x7A11)
      let u = try Tensor.rand([1], generator: g)
      t.append(config.timestepPower == 1 ? u : try u.pow(config.timestepPower))
      if config.noisingStep > 0 { noise.append(try Tensor.randn(latentShape, generator: g, device: device)) }
    }
    return (try Tensor.cat(t, dim: 0).placed(on: device), noise)
  }

  /// Target x1, source x0 and context for a batch (the original's `extract_from_batch` and
  /// `get_source_and_context`): precomputed latents are scaled and used as they are.
  /// `noise` (one latent-shaped draw per sample) makes the noise augmentation reproducible.
  public func sourceAndTarget(_ batch: Batch, generator: Generator, noise: [Tensor] = []) throws -> (x1: Tensor, x0: Tensor, context: Tensor) {
    let batch = try batch.placed(on: device)
    let images = try toAutoencoderRange(batch.image)
    let x1 = try withNoGrad { try batch.latent.map { try $0 * config.scaleFactor } ?? pixelSpace.encode(images) }
    let lowRes = try config.lowResImage(images)
    let latentSize = (x1.size(2), x1.size(3))
    // Spec 6.2-6.4: lres_z = E(lres_ims), brought to the latent size by the upsampling mode; PSU
    // takes the low-resolution image itself (never the shortcut meant for precomputed latents).
    let context = try withNoGrad {
      if config.upsamplingMode == .psu {
        if let precomputed = batch.latentLowRes { return try precomputed * config.scaleFactor }
        return try pixelSpaceUpsample(lowRes, to: latentSize, pixelSpace: pixelSpace)
      }
      let small = try batch.latentSmall.map { try $0 * config.scaleFactor } ?? pixelSpace.encode(lowRes)
      return try upsampleLatent(small, to: latentSize, mode: config.upsamplingMode, generator: generator)
    }
    var x0 = config.startFromNoise ? try context.randnLike(generator: generator) : context
    if config.noisingStep > 0 {
      let eps = noise.isEmpty ? nil : try Tensor.stack(noise)
      x0 = try diffusion.qSample(x0, step: config.noisingStep, noise: eps.flatMap { $0.shape == x0.shape ? $0 : nil }, generator: generator)
    }
    return (x1, x0, context)
  }

  /// Batches hold [−1, 1]; TAESD-family autoencoders take [0, 1].
  func toAutoencoderRange(_ images: Tensor) throws -> Tensor {
    pixelSpace.autoencoder.pixelRange == .unit ? try (images + 1) / 2 : images
  }

  func fromAutoencoderRange(_ images: Tensor) throws -> Tensor {
    pixelSpace.autoencoder.pixelRange == .unit ? try images * 2 - 1 : images
  }

  /// The flow matching loss of batch `batchIndex` of the stream, and its target latents, on the
  /// trainer's device; no value is read here (the device tests run it on `meta`).
  public func microBatchLoss(_ batchIndex: Int) throws -> (loss: Tensor, x1: Tensor) {
    let batch = try prefetcher.batch(batchIndex)
    let generator = try Generator(seed: config.seed &+ 0x1000_0000 &+ UInt64(batchIndex))
    // t and the augmentation noise belong to the sample (its index in the stream), not to the
    // process: ranks draw different values (the original shares its seed across ranks), and the
    // result does not depend on how the batch is split.
    let draws = try sampleDraws(first: batchIndex * config.batchSize, count: batch.image.size(0))
    let (x1, x0, context) = try sourceAndTarget(batch, generator: generator, noise: draws.noise)
    let useContext = config.takesContext
    let forward = { try self.flow.trainingLoss(x1: x1, x0: x0, context: useContext ? context : nil, t: draws.t, generator: generator, distance: self.config.velocityLoss) }
    let result = config.precision == .bf16Mixed ? try withAutocast(.bfloat16, on: device, forward) : try forward()
    return (result.loss, x1)
  }

  /// One optimiser step (accumulating over micro-batches); returns the mean loss and grad norm.
  public func trainStep() throws -> (loss: Double, gradNorm: Double?, lr: Double) {
    let accumulation = config.accumulateGradBatches
    var total = 0.0
    for micro in 0..<accumulation {
      // Rank r takes every worldSize-th batch of the stream: together the ranks see exactly the
      // samples one process with a worldSize times larger batch would.
      let (lossTensor, x1) = try microBatchLoss((step * accumulation + micro) * worldSize + rank)
      if step == 0 && micro == 0 {
        // What scale_factor should be: the original's recipe is 1 / std of the first batch's latents.
        let std = try x1.std().item() / config.scaleFactor
        options.log(String(format: "first batch: latent std %.4f (1/std = %.3f; scale_factor %.4g gives std %.3f)", std, 1 / std, config.scaleFactor, std * config.scaleFactor))
      }
      let loss = try lossTensor.item()
      guard loss.isFinite else {
        throw TrainingError.nonFiniteLoss(step: step, value: loss)
      }
      try ema.update()
      if micro == accumulation - 1 { try reducer?.prepareForBackward() }
      try (lossTensor / Double(accumulation)).backward()
      total += loss
    }
    let norm = try applyGradients()
    return (total / Double(accumulation), norm, optimizer.lr)
  }

  /// Clips (or measures) the accumulated gradients as configured, and takes the Adam step at this
  /// step's learning rate; returns the gradient norm when one was computed.
  public func applyGradients() throws -> Double? {
    let parameters = flow.parameters()
    var norm: Double?
    if let clip = config.gradientClip { norm = try clipGradNorm(parameters, maxNorm: clip) } else if config.logGradNorm { norm = try gradNorm(parameters) }
    optimizer.lr = config.lr * config.schedule.multiplier(at: step + 1)
    try optimizer.step()
    try optimizer.zeroGrad()
    step += 1
    return norm
  }
}
