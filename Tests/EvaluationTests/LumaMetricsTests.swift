import Evaluation
import Foundation
import Testing
import Torch

/// The SR protocol's Y-channel PSNR against the formula evaluated element by element here.
@Suite struct LumaMetricsTests {
  @Test func yPSNRFollowsTheFormula() throws {
    let g = try Generator(seed: 9)
    let a = try Tensor.rand([1, 3, 20, 24], generator: g) * 2.2 - 1.1, b = try Tensor.rand([1, 3, 20, 24], generator: g) * 2 - 1
    func luma(_ t: Tensor) throws -> [[Double]] {
      let v = try t.contiguous().toArray(Float.self)
      func q(_ c: Int, _ y: Int, _ x: Int) -> Double {
        let value = Double(max(-1, min(1, v[(c * 20 + y) * 24 + x])))
        return ((value + 1) * 127.5).rounded(.toNearestOrEven) / 255
      }
      return (2..<18).map { y in (2..<22).map { x in 16 + 65.481 * q(0, y, x) + 128.553 * q(1, y, x) + 24.966 * q(2, y, x) } }
    }
    let (ya, yb) = (try luma(a), try luma(b))
    var mse = 0.0
    for (ra, rb) in zip(ya, yb) { for (p, q) in zip(ra, rb) { mse += (p - q) * (p - q) } }
    mse /= Double(16 * 20)
    let expected = 10 * log10(255 * 255 / mse)
    let psnr = try LumaMetrics.psnr(a, b, shave: 2)
    #expect(abs(psnr - expected) < 1e-4, "\(psnr) vs \(expected)")
    // White against black: Y 235 against 16, 20·log10(255 / 219) dB.
    let white = try Tensor.ones([1, 3, 8, 8]), black = try white * -1
    #expect(abs(try LumaMetrics.psnr(white, black, shave: 2) - 20 * log10(255.0 / 219)) < 1e-6)
    #expect(abs(try LumaMetrics.ssim(a, a, shave: 2) - 1) < 1e-9)
    #expect(throws: TorchError.self) { try LumaMetrics.psnr(white, black, shave: 4) }
  }
}
