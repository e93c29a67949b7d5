import Testing
import TestSupport
import Torch

/// conv2d(silu(groupNorm(x))) and conv2d(nearest ×2 of x) computed band by band, without the tensor
/// between (shim_conv_fused.cpp): the same numbers as the three (two) libtorch ops, and less memory.
@Suite(.serialized) struct FusedConvolutionTests {
  /// The reference: libtorch's own group_norm, silu and direct convolution, no bands, no Winograd.
  static func plain<T>(_ body: () throws -> T) rethrows -> T {
    try withRuntime(\.winogradMinimumPixels, 0) { try withRuntime(\.convolutionBandThreshold, 0, body) }
  }

  /// Channels whose means (up to 8) are far larger than their spread, as after a few layers: a
  /// variance from E[x²] − mean² would lose digits here.
  static func offsetInput(_ shape: [Int], _ g: Generator) throws -> Tensor {
    let means = try Tensor.rand([shape[0], shape[1], 1, 1], generator: g) * 16 - 8
    return try Tensor.randn(shape, generator: g) * 0.5 + means
  }

  struct Case: Sendable, CustomTestStringConvertible {
    let batch, channels, outChannels, height, width, kernel, groups: Int
    let winograd, channelsLast: Bool
    var testDescription: String {
      "\(batch)×\(channels)→\(outChannels) k\(kernel) G\(groups) on \(height)×\(width)\(winograd ? ", Winograd" : ", direct bands")\(channelsLast ? ", channels-last" : "")"
    }
  }

  static let normCases: [Case] = [
    Case(batch: 1, channels: 32, outChannels: 48, height: 130, width: 140, kernel: 3, groups: 8, winograd: true, channelsLast: false),
    Case(batch: 2, channels: 64, outChannels: 16, height: 131, width: 129, kernel: 3, groups: 32, winograd: true, channelsLast: true),
    // Not for Winograd (8 channels, a 1×1 and a 5×5 kernel): libtorch's kernel in bands of a few rows.
    Case(batch: 1, channels: 8, outChannels: 8, height: 97, width: 61, kernel: 3, groups: 4, winograd: false, channelsLast: false),
    Case(batch: 2, channels: 16, outChannels: 4, height: 50, width: 33, kernel: 1, groups: 2, winograd: false, channelsLast: false),
    Case(batch: 1, channels: 16, outChannels: 8, height: 45, width: 40, kernel: 5, groups: 16, winograd: false, channelsLast: true),
  ]

  /// Settings that send the case down its path: Winograd from 128² pixels, or bands of 1/8 of 64 KiB,
  /// also for the Winograd cases on a CPU without oneDNN's Winograd kernel (no AVX-512), so that
  /// every case tests the fused form on every CPU (no setting would send it to the three ops).
  static func fused<T>(_ c: Case, _ body: () throws -> T) rethrows -> T {
    let winograd = c.winograd && Runtime.winogradAvailable
    return try withRuntime(\.winogradMinimumPixels, winograd ? 128 * 128 : 0) {
      try withRuntime(\.convolutionBandThreshold, winograd ? 0 : 64 << 10, body)
    }
  }

  @Test(arguments: normCases) func groupNormSiLUConvolutionGivesTheThreeOps(_ c: Case) throws {
    let g = try Generator(seed: 11)
    var x = try Self.offsetInput([c.batch, c.channels, c.height, c.width], g)
    if c.channelsLast { x = try x.channelsLast() }
    let gamma = try Tensor.randn([c.channels], generator: g) * 0.5 + 1, beta = try Tensor.randn([c.channels], generator: g) * 0.5
    let w = try Tensor.randn([c.outChannels, c.channels, c.kernel, c.kernel], generator: g) * (1 / Double(c.kernel * c.kernel * c.channels).squareRoot())
    let b = try Tensor.randn([c.outChannels], generator: g)
    // The reference normalises the NCHW copy: libtorch 1.13's channels-last GroupNorm kernel loses
    // digits to such means (1.1e-3 here against its own NCHW result; the fused form 2e-6).
    let reference = try withNoGrad {
      try Self.plain {
        try x.contiguous().groupNorm(groups: c.groups, weight: gamma, bias: beta, eps: 1e-6).silu().conv2d(w, bias: b, padding: (c.kernel / 2, c.kernel / 2))
      }
    }
    let before = Runtime.winogradConvolutions
    let fused = try withNoGrad {
      try Self.fused(c) {
        try x.groupNormSiLUConv2d(groups: c.groups, normWeight: gamma, normBias: beta, eps: 1e-6, w, bias: b, padding: c.kernel / 2)
      }
    }
    if c.winograd && Runtime.winogradAvailable { #expect(Runtime.winogradConvolutions == before + 1) }
    #expect(fused.shape == reference.shape)
    // Outputs of order 1: float32 rounding of the statistics, the 9·C products and the transforms.
    #expect(try fused.maxAbsDifference(reference) < 1e-4)
  }

  static let upsampleCases: [Case] = [
    Case(batch: 1, channels: 32, outChannels: 16, height: 70, width: 65, kernel: 3, groups: 1, winograd: true, channelsLast: false),
    Case(batch: 2, channels: 16, outChannels: 32, height: 65, width: 66, kernel: 3, groups: 1, winograd: true, channelsLast: true),
    Case(batch: 1, channels: 8, outChannels: 4, height: 37, width: 21, kernel: 3, groups: 1, winograd: false, channelsLast: false),
  ]

  @Test(arguments: upsampleCases) func nearestTwiceConvolutionGivesTheTwoOps(_ c: Case) throws {
    let g = try Generator(seed: 12)
    var x = try Tensor.randn([c.batch, c.channels, c.height, c.width], generator: g)
    if c.channelsLast { x = try x.channelsLast() }
    let w = try Tensor.randn([c.outChannels, c.channels, 3, 3], generator: g) * (1 / Double(9 * c.channels).squareRoot())
    let b = try Tensor.randn([c.outChannels], generator: g)
    let reference = try withNoGrad {
      try Self.plain { try x.interpolate(scaleFactor: 2, mode: .nearest).conv2d(w, bias: b, padding: (1, 1)) }
    }
    let before = Runtime.winogradConvolutions
    let fused = try withNoGrad { try Self.fused(c) { try x.nearestTwiceConv2d(w, bias: b, padding: 1) } }
    if c.winograd && Runtime.winogradAvailable { #expect(Runtime.winogradConvolutions == before + 1) }
    #expect(fused.shape == [c.batch, c.outChannels, 2 * c.height, 2 * c.width])
    #expect(try fused.maxAbsDifference(reference) < 1e-4)
  }

  /// The point of it: the normalised (upsampled) tensor is never made. A 32 MiB input: the fused
  /// calls' high-water mark rises by their output and band-sized buffers only.
  @Test(.enabled(if: Runtime.cachesLargeBlocks)) func theTensorBetweenIsNeverMade() throws {
    let g = try Generator(seed: 13)
    let x = try Self.offsetInput([1, 64, 1024, 512], g)  // 128 MiB
    let gamma = try Tensor.ones([64]), beta = try Tensor.zeros([64])
    let w = try Tensor.randn([16, 64, 3, 3], generator: g) * 0.04
    let mib = 1 << 20
    func rise(_ body: () throws -> Tensor) throws -> Int {
      Runtime.releaseFreedMemory()
      let live = Runtime.allocatorStatistics.liveBytes
      let out = try withNoGrad(body)
      defer { withExtendedLifetime(out) {} }
      return Runtime.allocatorStatistics.highWaterBytes - live
    }
    let settings: (Int, Int) = Runtime.winogradAvailable ? (128 * 128, 0) : (0, 8 << 20)
    try withRuntime(\.winogradMinimumPixels, settings.0) {
      try withRuntime(\.convolutionBandThreshold, settings.1) {
        // Output 32 MiB, plus a band's buffers: at most the bound below on any CPU, whichever kernel
        // oneDNN picks there. The three ops would add the normalised 128 MiB, which no bound allows.
        let output = 32 * mib, bound = output + Self.bandWorkspaceBound
        #expect(bound < output + 128 * mib)
        let norm = try rise { try x.groupNormSiLUConv2d(groups: 32, normWeight: gamma, normBias: beta, eps: 1e-6, w, bias: nil, padding: 1) }
        #expect(norm < bound, "high-water rose by \(norm / mib) MiB")
        Self.expectWorkspaceWithinBudget()
        // Half the rows: output 32 MiB (16 channels at 1024 × 512); the upsampled input would be 128 MiB.
        let half = try x.narrow(dim: 2, start: 0, length: 512).narrow(dim: 3, start: 0, length: 256).contiguous()
        let up = try rise { try half.nearestTwiceConv2d(w, bias: nil, padding: 1) }
        #expect(up < bound, "high-water rose by \(up / mib) MiB")
        Self.expectWorkspaceWithinBudget()
      }
    }
  }

  /// What one band's buffers may add to the high-water mark in the memory tests: the Winograd
  /// budget, which the band's rows follow from the sizes oneDNN reports for the kernel it chose on
  /// this CPU, or, for libtorch's kernel on bands of 1 MiB of input, its blocked or im2col copies
  /// (9 MiB for im2col); plus 16 MiB for the band's zero-padded input and the allocator's rounding.
  static var bandWorkspaceBound: Int {
    (Runtime.winogradAvailable ? Runtime.winogradWorkspaceBudget : 16 << 20) + (16 << 20)
  }

  static func expectWorkspaceWithinBudget() {
    guard Runtime.winogradAvailable else { return }
    #expect(Runtime.lastWinogradWorkspace > 0 && Runtime.lastWinogradWorkspace <= Runtime.winogradWorkspaceBudget,
            "the last Winograd band took \(Runtime.lastWinogradWorkspace >> 20) MiB")
  }

  /// Under autograd the three ops run as such, and the gradient reaches the input.
  @Test func gradientsFlowThroughTheUnfusedForm() throws {
    let g = try Generator(seed: 14)
    let x = try Tensor.randn([1, 32, 130, 130], generator: g).requiresGrad(true)
    let gamma = try Tensor.ones([32]), beta = try Tensor.zeros([32])
    let w = try Tensor.randn([16, 32, 3, 3], generator: g) * 0.06
    let before = Runtime.winogradConvolutions
    let y = try x.groupNormSiLUConv2d(groups: 8, normWeight: gamma, normBias: beta, eps: 1e-6, w, bias: nil, padding: 1)
    let reference = try x.groupNorm(groups: 8, weight: gamma, bias: beta, eps: 1e-6).silu().conv2d(w, padding: (1, 1))
    #expect(Runtime.winogradConvolutions == before)
    #expect(try y.maxAbsDifference(reference) == 0)
    try y.sum().backward()
    let gradient = try #require(x.grad)
    #expect(try gradient.abs().sum().item() > 0)
  }
}
