import Testing
import TestSupport
import Torch

/// Inference conv2d over a large input runs in bands of output rows (shim_conv_banded.cpp): every
/// band reads its rows plus the kernel's halo, zero rows stand in for the padding, and the bands
/// together are the whole convolution.
@Suite struct ConvolutionBandTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let height, width, channels, outChannels, kernel, stride, padding, dilation, groups: Int
    let bias: Bool
    var testDescription: String {
      "\(channels)→\(outChannels) k\(kernel) s\(stride) p\(padding) d\(dilation) g\(groups) on \(height)×\(width)"
    }
  }

  static let cases: [Case] = [
    Case(height: 37, width: 20, channels: 8, outChannels: 6, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true),
    // The SD encoder's down-sampling: stride 2, no padding (it pads right and bottom itself), odd rows left over.
    Case(height: 33, width: 18, channels: 8, outChannels: 8, kernel: 3, stride: 2, padding: 0, dilation: 1, groups: 1, bias: true),
    Case(height: 30, width: 16, channels: 4, outChannels: 4, kernel: 3, stride: 2, padding: 1, dilation: 1, groups: 2, bias: false),
    Case(height: 29, width: 15, channels: 6, outChannels: 5, kernel: 3, stride: 1, padding: 2, dilation: 2, groups: 1, bias: true),
    Case(height: 25, width: 12, channels: 6, outChannels: 3, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true),
    Case(height: 26, width: 11, channels: 3, outChannels: 4, kernel: 5, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true),
  ]

  /// Runs `body` with banding from `bytes` up.
  static func withBandThreshold<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
    try withRuntime(\.convolutionBandThreshold, bytes, body)
  }

  @Test(arguments: cases) func bandsGiveTheWholeConvolution(_ c: Case) throws {
    let g = try Generator(seed: 11)
    let x = try Tensor.randn([2, c.channels, c.height, c.width], generator: g)
    let w = try Tensor.randn([c.outChannels, c.channels / c.groups, c.kernel, c.kernel], generator: g)
    let b = c.bias ? try Tensor.randn([c.outChannels], generator: g) : nil
    func convolve() throws -> Tensor {
      try withNoGrad {
        try x.conv2d(w, bias: b, stride: (c.stride, c.stride), padding: (c.padding, c.padding),
                     dilation: (c.dilation, c.dilation), groups: c.groups)
      }
    }
    let whole = try Self.withBandThreshold(0) { try convolve() }
    // A threshold of a few rows' bytes: bands of one or two output rows, so every band edge and
    // both paddings are exercised.
    let rowBytes = 2 * c.channels * c.width * 4
    let banded = try Self.withBandThreshold(16 * rowBytes) { try convolve() }
    #expect(banded.shape == whole.shape)
    #expect(try banded.maxAbsDifference(whole) < 1e-4)
    // The default's proportion: bands reading an eighth of the threshold.
    let coarse = try Self.withBandThreshold(x.elementCount * 4 - 1) { try convolve() }
    #expect(try coarse.maxAbsDifference(whole) < 1e-4)
  }
}
