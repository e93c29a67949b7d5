import FMBoost

extension TrainingConfig {
  /// Checks that need several keys: sizes the network and the first stage can take, positive counts.
  func validate(source: String) throws {
    let m = "model.params.", t = "train."
    func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
      if !condition { throw ConfigError("\(source): \(message())") }
    }
    try require(batchSize > 0 && validationBatchSize > 0, "data.params.batch_size and val_batch_size must be positive")
    try require(accumulateGradBatches > 0, "\(t)accumulate_grad_batches must be positive")
    try require(maxSteps >= 0, "\(t)max_steps must be 0 or more")
    try require(checkpointEvery > 0 && validateEvery > 0 && logEvery > 0, "\(t)checkpoint_every_n_train_steps, val_check_interval and log_every_n_steps must be positive")
    try require(validationBatches >= 0, "\(t)limit_val_batches must be 0 or more")
    try require(validationSteps >= 1, "\(t)val_steps must be at least 1, got \(validationSteps)")
    try require(imagesToVisualise >= 0, "\(m)n_images_to_vis must be 0 (no sample grid) or more, got \(imagesToVisualise)")
    try require(validationFraction >= 0 && validationFraction < 1, "data.params.val_fraction must be in [0, 1), got \(validationFraction)")
    try require(lowResSize >= 1, "\(m)low_res_size must be positive, got \(lowResSize)")
    try require(highResSize >= 1, "\(m)high_res_size must be positive, got \(highResSize)")
    try require(highResSize > lowResSize || upsamplingMode == .identity, "\(m)high_res_size (\(highResSize)) must be larger than low_res_size (\(lowResSize))")
    try require(scaleFactor.isFinite && scaleFactor > 0, "\(m)scale_factor must be a positive number, got \(scaleFactor)")
    try require(lr.isFinite && lr > 0, "\(m)lr must be a positive number, got \(lr)")
    try require(emaRate >= 0 && emaRate <= 1, "\(m)ema_rate must be in [0, 1], got \(emaRate)")
    try require(emaUpdateEvery >= 1, "\(m)ema_update_every must be at least 1")
    if let f = firstStage.downsamplingFactor {
      let multiple = net.requiredDivisor * f
      try require(highResSize % multiple == 0,
                  "\(m)high_res_size \(highResSize) must be a multiple of \(multiple) (the UNet's divisor \(net.requiredDivisor) × the first stage's factor \(f))")
      if upsamplingMode != .psu {
        try require(lowResSize % f == 0, "\(m)low_res_size \(lowResSize) must be a multiple of the first stage's factor \(f) (upsampling_mode \(upsamplingMode.rawValue) encodes the low-resolution image)")
      }
    }
    switch upsamplingMode {
    case .identity:
      try require(lowResSize == highResSize, "\(m)upsampling_mode identity needs low_res_size == high_res_size")
    case .noiseUpsampling:
      try require(highResSize % lowResSize == 0, "\(m)upsampling_mode noise_upsampling needs high_res_size to be a multiple of low_res_size")
    default: break
    }
  }
}
