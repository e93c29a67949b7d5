import Testing
import TestSupport
import Torch

/// The two convolutions that may write over memory they are given (shim_conv_fused.cpp): conv2d after
/// GroupNorm and SiLU added into a residual, and a 1×1 convolution over its own input. Each gives the
/// plain ops' numbers, overwrites only a tensor nothing else holds, and then needs no output memory.
@Suite(.serialized) struct OverwritingConvolutionTests {
  typealias Case = FusedConvolutionTests.Case

  /// A fresh tensor of fixed values on each call: a temporary passed on is held by nothing else.
  static func fresh(_ shape: [Int], seed: UInt64, channelsLast: Bool = false) throws -> Tensor {
    let t = try Tensor.randn(shape, generator: Generator(seed: seed))
    return channelsLast ? try t.channelsLast() : t
  }

  /// The high-water mark's rise over the live bytes while `body` runs.
  static func rise(_ body: () throws -> Tensor) throws -> Int {
    Runtime.releaseFreedMemory()
    let live = Runtime.allocatorStatistics.liveBytes
    let out = try withNoGrad(body)
    defer { withExtendedLifetime(out) {} }
    return Runtime.allocatorStatistics.highWaterBytes - live
  }

  @Test(arguments: FusedConvolutionTests.normCases) func residualSumMatchesTheOpsAndSparesAHeldResidual(_ c: Case) throws {
    let g = try Generator(seed: 21)
    var x = try FusedConvolutionTests.offsetInput([c.batch, c.channels, c.height, c.width], g)
    if c.channelsLast { x = try x.channelsLast() }
    let gamma = try Tensor.randn([c.channels], generator: g) * 0.5 + 1, beta = try Tensor.randn([c.channels], generator: g) * 0.5
    let w = try Tensor.randn([c.outChannels, c.channels, c.kernel, c.kernel], generator: g) * (1 / Double(c.kernel * c.kernel * c.channels).squareRoot())
    let b = try Tensor.randn([c.outChannels], generator: g)
    let outShape = [c.batch, c.outChannels, c.height, c.width]
    let residual = { try Self.fresh(outShape, seed: 22, channelsLast: c.channelsLast) }
    let reference = try withNoGrad {
      try FusedConvolutionTests.plain {
        try x.contiguous().groupNorm(groups: c.groups, weight: gamma, bias: beta, eps: 1e-6).silu()
          .conv2d(w, bias: b, padding: (c.kernel / 2, c.kernel / 2)) + residual()
      }
    }
    func fused(adding sum: consuming Tensor) throws -> Tensor {
      try withNoGrad {
        try FusedConvolutionTests.fused(c) {
          try x.groupNormSiLUConv2d(groups: c.groups, normWeight: gamma, normBias: beta, eps: 1e-6, w, bias: b, padding: c.kernel / 2,
                                    adding: sum)
        }
      }
    }
    let overwritten = try fused(adding: residual())
    #expect(try overwritten.maxAbsDifference(reference) < 1e-4)
    // A residual the caller still holds keeps its values; the sum goes to a new tensor.
    let held = try residual()
    let beside = try fused(adding: held)
    #expect(try held.maxAbsDifference(residual()) == 0)
    #expect(try beside.maxAbsDifference(overwritten) == 0)
  }

  static let pointwiseCases: [Case] = [
    Case(batch: 2, channels: 64, outChannels: 32, height: 37, width: 29, kernel: 1, groups: 1, winograd: false, channelsLast: false),
    Case(batch: 2, channels: 48, outChannels: 40, height: 33, width: 35, kernel: 1, groups: 1, winograd: false, channelsLast: true),
    Case(batch: 3, channels: 24, outChannels: 24, height: 300, width: 17, kernel: 1, groups: 1, winograd: false, channelsLast: false),
    // Rows of 256 KiB: 16 MiB bands of 64 rows, several per image with a partial last one.
    Case(batch: 2, channels: 32, outChannels: 16, height: 150, width: 2048, kernel: 1, groups: 1, winograd: false, channelsLast: false),
    Case(batch: 2, channels: 64, outChannels: 48, height: 100, width: 1024, kernel: 1, groups: 1, winograd: false, channelsLast: true),
  ]

  @Test(arguments: pointwiseCases) func pointwiseOverItsInputMatchesTheConvolution(_ c: Case) throws {
    let g = try Generator(seed: 23)
    let w = try Tensor.randn([c.outChannels, c.channels, 1, 1], generator: g) * (1 / Double(c.channels).squareRoot())
    let b = try Tensor.randn([c.outChannels], generator: g)
    let input = { try Self.fresh([c.batch, c.channels, c.height, c.width], seed: 24, channelsLast: c.channelsLast) }
    let reference = try withNoGrad { try input().conv2d(w, bias: b) }
    let overwritten = try withNoGrad { try Tensor.conv1x1Overwriting(input(), w, bias: b) }
    #expect(overwritten.shape == reference.shape)
    #expect(try overwritten.maxAbsDifference(reference) < 1e-5)
    let held = try input()
    let beside = try withNoGrad { try Tensor.conv1x1Overwriting(held, w, bias: b) }
    #expect(try held.maxAbsDifference(input()) == 0)
    #expect(try beside.maxAbsDifference(reference) < 1e-5)
  }

  /// A view of a larger tensor, a wider output and a tensor under autograd are computed out of place.
  @Test func pointwiseLeavesWhatItMayNotOverwrite() throws {
    let g = try Generator(seed: 25)
    let x = try Tensor.randn([1, 8, 20, 20], generator: g)
    let widen = try Tensor.randn([16, 8, 1, 1], generator: g)
    let wide = try withNoGrad { try Tensor.conv1x1Overwriting(x.clone(), widen, bias: nil) }
    #expect(try wide.maxAbsDifference(withNoGrad { try x.conv2d(widen) }) < 1e-5)
    let narrow = try Tensor.randn([4, 8, 1, 1], generator: g)
    let transposed = try withNoGrad { try Tensor.conv1x1Overwriting(x.clone().transpose(2, 3), narrow, bias: nil) }
    #expect(try transposed.maxAbsDifference(withNoGrad { try x.transpose(2, 3).conv2d(narrow) }) < 1e-5)
    let leaf = try x.clone().requiresGrad(true)
    let y = try Tensor.conv1x1Overwriting(leaf, narrow, bias: nil)
    try y.sum().backward()
    #expect(try leaf.maxAbsDifference(x) == 0)
    #expect(try #require(leaf.grad).abs().sum().item() > 0)
  }

  /// The memory a resnet block saves: with a residual of its own, the fused convolution's high-water
  /// mark rises by band-sized buffers only (at most `bandWorkspaceBound`), not by its 128 MiB output; the 1×1
  /// convolution over a 128 MiB input by its 16 MiB bands' buffers (about 40 MiB), not by its 64 MiB output.
  @Test(.enabled(if: Runtime.cachesLargeBlocks)) func overwritingNeedsNoOutputMemory() throws {
    let g = try Generator(seed: 26)
    let x = try FusedConvolutionTests.offsetInput([1, 64, 1024, 512], g)  // 128 MiB
    let gamma = try Tensor.ones([64]), beta = try Tensor.zeros([64])
    let w = try Tensor.randn([64, 64, 3, 3], generator: g) * 0.02
    let mib = 1 << 20
    let settings: (Int, Int) = Runtime.winogradAvailable ? (128 * 128, 0) : (0, 8 << 20)
    try withRuntime(\.winogradMinimumPixels, settings.0) {
      try withRuntime(\.convolutionBandThreshold, settings.1) {
        var sum: Tensor? = try Self.fresh([1, 64, 1024, 512], seed: 27)
        let norm = try Self.rise {
          try x.groupNormSiLUConv2d(groups: 32, normWeight: gamma, normBias: beta, eps: 1e-6, w, bias: nil, padding: 1, adding: sum.take()!)
        }
        // Its own 128 MiB output would exceed the bound on any CPU.
        #expect(FusedConvolutionTests.bandWorkspaceBound < 128 * mib)
        #expect(norm < FusedConvolutionTests.bandWorkspaceBound, "high-water rose by \(norm / mib) MiB")
        FusedConvolutionTests.expectWorkspaceWithinBudget()
      }
    }
    var input: Tensor? = try Self.fresh([1, 64, 1024, 512], seed: 28)
    let halve = try Tensor.randn([32, 64, 1, 1], generator: g) * 0.1
    let pointwise = try Self.rise { try Tensor.conv1x1Overwriting(input.take()!, halve, bias: nil) }
    #expect(pointwise < 56 * mib, "high-water rose by \(pointwise / mib) MiB")
  }
}
