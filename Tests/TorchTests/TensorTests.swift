import Foundation
import Testing
import Torch

@Suite struct TensorTests {
  @Test func arraysRoundTripWithShape() throws {
    let t = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    #expect(t.shape == [2, 3])
    #expect(t.dtype == .float32)
    #expect(try t.toArray(Float.self) == [1, 2, 3, 4, 5, 6])
    #expect(try t.transpose(0, 1).contiguous().toArray(Float.self) == [1, 4, 2, 5, 3, 6])
    #expect(throws: TorchError.self) { try Tensor([1, 2, 3] as [Float], shape: [2, 2]) }
  }

  @Test func dtypeConversions() throws {
    let t = try Tensor([1.5, -2.25, 3] as [Double])
    #expect(try t.to(.float16).to(.float64).toArray(Double.self) == [1.5, -2.25, 3])
    #expect(try t.to(.bfloat16).to(.float32).toArray(Float.self) == [1.5, -2.25, 3])
    #expect(try t.to(.int64).toArray(Int64.self) == [1, -2, 3])
    #expect(try t.to(.int32).toArray(Int32.self) == [1, -2, 3])
    #expect(try t.gt(0).toArray(Bool.self) == [true, false, true])
    #expect(try Tensor([200, 3] as [UInt8]).to(.float32).toArray(Float.self) == [200, 3])
  }

  @Test func broadcastingArithmetic() throws {
    let a = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    let b = try Tensor([10, 20, 30] as [Float])
    #expect(try (a + b).toArray(Float.self) == [11, 22, 33, 14, 25, 36])
    #expect(try (a * 2 - 1).toArray(Float.self) == [1, 3, 5, 7, 9, 11])
    #expect(try (1 - a).toArray(Float.self) == [0, -1, -2, -3, -4, -5])
    #expect(try (6 / a).toArray(Float.self) == [6, 3, 2, 1.5, 1.2, 1])
    #expect(try (-a).sum().item() == -21)
    #expect(try a.matmul(a.transpose(0, 1)).toArray(Float.self) == [14, 32, 32, 77])
  }

  @Test func unaryFunctionsMatchScalarMath() throws {
    let values: [Double] = [-2, -0.5, 0, 0.5, 2]
    let t = try Tensor(values)
    func close(_ got: Tensor, _ expected: [Double]) throws {
      for (g, e) in zip(try got.toArray(Double.self), expected) { #expect(Swift.abs(g - e) < 1e-12) }
    }
    try close(t.exp(), values.map { Foundation.exp($0) })
    try close(t.tanh(), values.map { Foundation.tanh($0) })
    try close(t.sigmoid(), values.map { 1 / (1 + Foundation.exp(-$0)) })
    try close(t.silu(), values.map { $0 / (1 + Foundation.exp(-$0)) })
    try close(t.relu(), values.map { Swift.max(0, $0) })
    try close(t.gelu(), values.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) })
    try close(t.clamp(min: -1, max: 1), values.map { Swift.min(1, Swift.max(-1, $0)) })
    try close(t.abs().sqrt(), values.map { Swift.abs($0).squareRoot() })
    try close(t.sin(), values.map { Foundation.sin($0) })
    try close(t.cos(), values.map { Foundation.cos($0) })
    try close(t.softmax(dim: 0), { let e = values.map { Foundation.exp($0) }; let s = e.reduce(0, +); return e.map { $0 / s } }())
  }

  @Test func reductionsOverDimensions() throws {
    let t = try Tensor([1, 5, 3, 4, 2, 6] as [Float], shape: [2, 3])
    #expect(try t.sum(dim: 1).toArray(Float.self) == [9, 12])
    #expect(try t.mean(dim: 0).toArray(Float.self) == [2.5, 3.5, 4.5])
    #expect(try t.max(dim: 1).toArray(Float.self) == [5, 6])
    #expect(try t.argmax(dim: 1).toArray(Int64.self) == [1, 2])
    #expect(try t.argmax().itemInt() == 5)
    #expect(try t.min().item() == 1)
    // Unbiased variance of [1, 5, 3] is 4.
    #expect(try t.variance([1]).toArray(Float.self) == [4, 4])
    #expect(try t.variance([1], correction: 0).toArray(Float.self)[0] == 8.0 / 3.0)
  }

  @Test func shapeOperations() throws {
    let t = try Tensor.arange(0, 24).reshape([2, 3, 4])
    #expect(try t.permute([2, 0, 1]).shape == [4, 2, 3])
    #expect(try t.narrow(dim: 2, start: 1, length: 2).contiguous().toArray(Float.self).prefix(4) == [1, 2, 5, 6])
    let chunks = try t.chunk(3, dim: 1)
    #expect(chunks.map(\.shape) == [[2, 1, 4], [2, 1, 4], [2, 1, 4]])
    #expect(try t.split(sizes: [1, 3], dim: 2).map(\.shape) == [[2, 3, 1], [2, 3, 3]])
    #expect(try Tensor.cat([t, t], dim: 0).shape == [4, 3, 4])
    #expect(try Tensor.stack([t, t], dim: 1).shape == [2, 2, 3, 4])
    #expect(try t.flip([2]).select(dim: 0, index: 0).select(dim: 0, index: 0).toArray(Float.self) == [3, 2, 1, 0])
    #expect(try t.indexSelect(dim: 2, Tensor([3, 0] as [Int64])).select(dim: 0, index: 0).select(dim: 0, index: 0).toArray(Float.self) == [3, 0])
    #expect(try t.slice(dim: 2, start: 0, end: 4, step: 2).shape == [2, 3, 2])
    #expect(try t.unsqueeze(dim: 0).squeeze(dim: 0).shape == [2, 3, 4])
    #expect(try t.view([6, 4]).shape == [6, 4])
    let padded = try Tensor.ones([1, 1, 2, 2]).pad([0, 1, 0, 1])
    #expect(padded.shape == [1, 1, 3, 3])
    #expect(try padded.sum().item() == 4)
    #expect(try Tensor([1, 2, 3] as [Float], shape: [1, 1, 3]).pad([2, 2], mode: .reflect).toArray(Float.self) == [3, 2, 1, 2, 3, 2, 1])
  }

  @Test func shapeErrorsCarryLibtorchsMessage() throws {
    let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4])
    do {
      _ = try a + b
      Issue.record("adding (2,3) and (4) must fail")
    } catch let error as TorchError {
      guard case .libtorch(let message) = error else { Issue.record("wrong error kind"); return }
      #expect(message.contains("must match the size of tensor b (4)"))
      #expect(!message.contains("frame #"))  // no C++ backtrace in the message
    }
    #expect(throws: TorchError.self) { try a.matmul(a) }
    #expect(throws: TorchError.self) { try a.conv2d(Tensor.zeros([1, 1, 3, 3])) }
    #expect(throws: TorchError.self) { try a.reshape([5]) }
    #expect(throws: TorchError.self) { try a.select(dim: 0, index: 7) }
    // The layer still works after errors.
    #expect(try (a + 1).sum().item() == 6)
  }

  @Test func creationFunctions() throws {
    #expect(try Tensor.linspace(0, 1, steps: 5).toArray(Float.self) == [0, 0.25, 0.5, 0.75, 1])
    #expect(try Tensor.arange(2, 8, step: 2, dtype: .int64).toArray(Int64.self) == [2, 4, 6])
    #expect(try Tensor.full([2], 7, dtype: .int32).toArray(Int32.self) == [7, 7])
    #expect(try Tensor.empty([3, 0]).elementCount == 0)
    let meta = try Tensor.empty([1000, 1000, 1000], device: .meta)
    #expect(meta.device == .meta && meta.shape == [1000, 1000, 1000])
    #expect(throws: TorchError.self) { try Tensor.zeros([-1]) }
  }

  @Test func describesItself() throws {
    let text = try Tensor([1, 2] as [Float]).description
    #expect(text.contains("CPUFloatType{2}"))
  }
}

