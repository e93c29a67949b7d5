import Testing
import Torch

@Suite struct RandomTests {
  // torch.manual_seed(0); torch.randn(3) and torch.rand(3): the well-known values of PyTorch's CPU
  // generator, so seeded draws here equal PyTorch's.
  @Test func seededDrawsEqualPyTorchs() throws {
    let g = try Generator(seed: 0)
    let normal = try Tensor.randn([3], generator: g).toArray(Float.self)
    for (got, expected) in zip(normal, [1.5410, -0.2934, -2.1788] as [Float]) { #expect(abs(got - expected) < 1e-4) }
    try g.seed(0)
    let uniform = try Tensor.rand([3], generator: g).toArray(Float.self)
    for (got, expected) in zip(uniform, [0.4963, 0.7682, 0.0885] as [Float]) { #expect(abs(got - expected) < 1e-4) }
  }

  @Test func stateRestoresTheSequence() throws {
    let g = try Generator(seed: 42)
    _ = try Tensor.randn([5], generator: g)
    let state = try g.state()
    let first = try Tensor.randn([4], generator: g).toArray(Float.self)
    try g.setState(state)
    #expect(try Tensor.randn([4], generator: g).toArray(Float.self) == first)
    let perm = try Tensor.randperm(10, generator: g).toArray(Int64.self)
    #expect(perm.sorted() == Array(0..<10))
    let ints = try Tensor.randint(3, 7, [100], generator: g).toArray(Int64.self)
    #expect(ints.allSatisfy { (3..<7).contains($0) })
  }

  @Test func dropoutKeepsExpectationAndIsOffInEval() throws {
    let x = try Tensor.ones([100_000])
    let y = try x.dropout(p: 0.25, training: true, generator: Generator(seed: 1))
    let zeros = try y.eq(0).to(.float32).mean().item()
    #expect(abs(zeros - 0.25) < 0.01)
    #expect(abs(try y.mean().item() - 1) < 0.02)
    #expect(try x.dropout(p: 0.25, training: false).equal(x))
  }
}
