extension EfficientUNetConfig {
  /// A bound on how far the output at a position depends on the input, in input positions: the
  /// network is then a function of the (2r + 1)² window around each position, so tiles that carry
  /// this much more on every side give exactly what the whole input gives there. nil where the
  /// output depends on the whole input: GroupNorm (statistics over the image) or attention.
  ///
  /// Summed along the deepest path, each 3×3 convolution adding its reach at its level's scale ds,
  /// each resampling the coarser scale more (the grid offset of a stride-2 convolution or of a
  /// nearest ×2 upsampling), the patchify convolution and its transpose `poolFactor` each.
  public var receptiveRadius: Int? {
    let levels = channelMult.count
    let scales = (0..<levels).map { 1 << $0 }
    guard !useGroupNorm, !middleAttention, !attentionResolutions.contains(where: scales.contains) else { return nil }
    let pool = usesPooling ? poolFactor : 1
    var radius = usesPooling ? 2 * poolFactor : 0
    var ds = pool
    radius += ds  // the stem
    for level in 0..<levels {
      radius += numResBlocks * 2 * ds
      if level < levels - 1 {
        radius += 2 * ds  // stride-2 convolution (or pooling) and its grid offset
        ds *= 2
      }
    }
    radius += 2 * 2 * ds  // the middle block's two residual blocks
    for level in (0..<levels).reversed() {
      radius += (numResBlocks + 1) * 2 * ds
      if level > 0 {
        radius += ds + ds / 2  // nearest ×2 from scale ds, then a 3×3 convolution at ds / 2
        ds /= 2
      }
    }
    return radius + ds  // the output convolution
  }

  /// About the bytes one input position costs an upsampling in inference (float32 activations, the
  /// skips held for the output blocks, a block's temporaries, the ODE's states), for choosing tile
  /// sizes: 28 bytes per channel of the first level, each deeper level a quarter of the positions,
  /// and 16 per input channel. For the default model (48 channels, mult [1, 1, 1]) 2.1 KB, where
  /// peak RSS grows by 1.55 KB per position (512² to 1024² inputs whole): tiles sized by 1.77 KB
  /// peaked at 2.41 GB of a 2.5 GB budget and ran no faster than these (the per-position cost
  /// grows with the tile as the halo's share shrinks).
  public var inferenceBytesPerPosition: Int {
    let levels = channelMult.enumerated().map { level, mult in Double(mult) / Double(1 << (2 * level)) }.reduce(0, +)
    return Int(28 * Double(modelChannels) * levels / Double(usesPooling ? poolFactor * poolFactor : 1)) + 4 * 4 * inChannels
  }
}
