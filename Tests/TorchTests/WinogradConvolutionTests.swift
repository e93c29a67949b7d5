import Testing
import TestSupport
import Torch

/// Inference 3x3 stride-1 conv2d with large outputs runs by oneDNN's Winograd kernel where the CPU
/// has one (shim_conv_winograd.cpp), in bands of output rows that share one transform of the
/// weights. It must give libtorch's direct convolution to a few float32 roundings.
@Suite(.serialized) struct WinogradConvolutionTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let batch, channels, outChannels, height, width, padding: Int
    let bias, channelsLast: Bool
    var testDescription: String {
      "\(batch)×\(channels)→\(outChannels) p\(padding) on \(height)×\(width)\(bias ? "" : ", no bias")\(channelsLast ? ", channels-last" : "")"
    }
  }

  static let cases: [Case] = [
    // One band: 16,384 output pixels exactly, the threshold.
    Case(batch: 1, channels: 16, outChannels: 32, height: 128, width: 128, padding: 1, bias: true, channelsLast: false),
    // 32 KB rows: bands of 256 rows, the last one partial (300 = 256 + 44), and padding 0 (298 rows out).
    Case(batch: 1, channels: 32, outChannels: 16, height: 300, width: 256, padding: 1, bias: true, channelsLast: false),
    Case(batch: 1, channels: 32, outChannels: 48, height: 301, width: 255, padding: 0, bias: false, channelsLast: false),
    // A batch of two, channels-last in and out, rows that are no multiple of the 4-row tile.
    Case(batch: 2, channels: 64, outChannels: 32, height: 131, width: 133, padding: 1, bias: true, channelsLast: true),
  ]

  static func withMinimumPixels<T>(_ pixels: Int, _ body: () throws -> T) rethrows -> T {
    try withRuntime(\.winogradMinimumPixels, pixels, body)
  }

  @Test(arguments: cases) func winogradGivesTheDirectConvolution(_ c: Case) throws {
    let g = try Generator(seed: 5)
    var x = try Tensor.randn([c.batch, c.channels, c.height, c.width], generator: g)
    if c.channelsLast { x = try x.channelsLast() }
    let w = try Tensor.randn([c.outChannels, c.channels, 3, 3], generator: g) * (1.0 / Double(9 * c.channels).squareRoot())
    let b = c.bias ? try Tensor.randn([c.outChannels], generator: g) : nil
    func convolve() throws -> Tensor {
      try withNoGrad { try x.conv2d(w, bias: b, stride: (1, 1), padding: (c.padding, c.padding)) }
    }
    let direct = try Self.withMinimumPixels(0) { try convolve() }
    let before = Runtime.winogradConvolutions
    let winograd = try Self.withMinimumPixels(128 * 128) { try convolve() }
    if Runtime.winogradAvailable { #expect(Runtime.winogradConvolutions == before + 1) }
    #expect(winograd.shape == direct.shape)
    #expect(winograd.strides == direct.strides)
    // Outputs are of order 1 (|max| about 5): float32 rounding of 9·C products and the transforms.
    #expect(try winograd.maxAbsDifference(direct) < 1e-4)
  }

  /// Views that are neither NCHW- nor channels-last-contiguous: a channel slice and a broadcast row.
  @Test func stridedAndBroadcastInputsGiveTheDirectConvolution() throws {
    let g = try Generator(seed: 7)
    let w = try Tensor.randn([16, 32, 3, 3], generator: g) * (1.0 / 288.0.squareRoot())
    let slice = try Tensor.randn([1, 48, 130, 140], generator: g).narrow(dim: 1, start: 8, length: 32)
    let broadcast = try Tensor.randn([1, 32, 1, 140], generator: g).expand([1, 32, 130, 140])
    for x in [slice, broadcast] {
      let direct = try Self.withMinimumPixels(0) { try withNoGrad { try x.conv2d(w, padding: (1, 1)) } }
      let before = Runtime.winogradConvolutions
      let winograd = try Self.withMinimumPixels(128 * 128) { try withNoGrad { try x.conv2d(w, padding: (1, 1)) } }
      if Runtime.winogradAvailable { #expect(Runtime.winogradConvolutions == before + 1) }
      #expect(try winograd.maxAbsDifference(direct) < 1e-4)
    }
  }

  @Test func smallOutputsStridesGroupsAndGradientsStayDirect() throws {
    let g = try Generator(seed: 6)
    let x = try Tensor.randn([1, 16, 64, 64], generator: g)
    let w = try Tensor.randn([16, 16, 3, 3], generator: g)
    let large = try Tensor.randn([1, 16, 130, 130], generator: g)
    let before = Runtime.winogradConvolutions
    _ = try withNoGrad { try x.conv2d(w, padding: (1, 1)) }  // 4,096 pixels: below the threshold
    _ = try withNoGrad { try large.conv2d(w, stride: (2, 2), padding: (1, 1)) }
    _ = try withNoGrad { try large.conv2d(try Tensor.randn([16, 8, 3, 3], generator: g), padding: (1, 1), groups: 2) }
    _ = try large.conv2d(w, padding: (1, 1))  // gradient mode: training keeps libtorch's kernel
    #expect(Runtime.winogradConvolutions == before)
    if Runtime.winogradAvailable {
      _ = try withNoGrad { try large.conv2d(w, padding: (1, 1)) }
      #expect(Runtime.winogradConvolutions == before + 1)
    }
  }
}
