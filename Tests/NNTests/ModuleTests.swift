import NN
import Testing
import Torch

/// A small nested tree shaped like the UNet's blocks: `blocks.<i>.<j>.*` and `out.0`/`out.2`.
final class Block: Module, Layer {
  let norm: GroupNorm
  let conv: Conv2d
  init(_ channels: Int) throws {
    norm = try GroupNorm(groups: 2, channels: channels)
    conv = try Conv2d(channels, channels, kernelSize: 3, padding: 1)
    super.init()
    register("in_layers", Sequential([norm, SiLU(), conv]))
  }
  func callAsFunction(_ x: Tensor) throws -> Tensor { try x + conv(norm(x).silu()) }
}

final class Tiny: Module {
  let blocks: ModuleList<Sequential>
  let out: Sequential
  init(_ width: Int = 4) throws {
    blocks = ModuleList([Sequential([try Conv2d(3, 4, kernelSize: 1)]), Sequential([try Block(4), Identity()])])
    out = Sequential([try GroupNorm(groups: 2, channels: 4), SiLU(), try Linear(4, 2)])
    super.init()
    register("blocks", blocks)
    register("out", out)
  }
}

@Suite struct ModuleTests {
  @Test func stateDictKeysArePyTorchPaths() throws {
    let keys = try Tiny().stateDict().map(\.0)
    #expect(keys == [
      "blocks.0.0.weight", "blocks.0.0.bias",
      "blocks.1.0.in_layers.0.weight", "blocks.1.0.in_layers.0.bias",
      "blocks.1.0.in_layers.2.weight", "blocks.1.0.in_layers.2.bias",
      "out.0.weight", "out.0.bias", "out.2.weight", "out.2.bias",
    ])
    #expect(try Tiny().parameterCount == (12 + 4) + (4 + 4) + (144 + 4) + (4 + 4) + (8 + 2))
  }

  @Test func strictLoadReportsEveryProblemAtOnce() throws {
    let model = try Tiny()
    var dict = Dictionary(uniqueKeysWithValues: try Tiny().stateDict())
    dict.removeValue(forKey: "out.2.bias")
    dict["out.2.weight"] = try Tensor.zeros([3, 4])
    dict["extra.weight"] = try Tensor.zeros([1])
    let before = try model.stateDict()[0].1.clone()
    do {
      try model.load(stateDict: dict, strict: true)
      Issue.record("strict load must fail")
    } catch let error as StateDictError {
      #expect(error.report.missing == ["out.2.bias"])
      #expect(error.report.unexpected == ["extra.weight"])
      #expect(error.report.mismatched == [.init(key: "out.2.weight", expected: [2, 4], found: [3, 4])])
      #expect(error.description.contains("out.2.bias") && error.description.contains("[3, 4]"))
    }
    // Nothing changed on failure.
    #expect(try model.stateDict()[0].1.equal(before))
    // Non-strict loads what matches and reports the rest.
    let report = try model.load(stateDict: dict, strict: false)
    #expect(report.missing == ["out.2.bias"] && !report.isClean)
    #expect(try model.stateDict()[0].1.equal(dict["blocks.0.0.weight"]!))
  }

  @Test func loadCopiesAndConvertsDtypes() throws {
    let a = try Tiny(), b = try Tiny()
    let source = Dictionary(uniqueKeysWithValues: try a.stateDict().map { ($0.0, try $0.1.to(.float64)) })
    try b.load(stateDict: source)
    for ((_, x), (_, y)) in zip(try a.stateDict(), b.stateDict()) {
      #expect(y.dtype == .float32 && y.requiresGrad)
      #expect(try x.equal(y))
    }
    // No storage is shared with the source dictionary.
    try withNoGrad { try b.stateDict()[0].1.add_(1) }
    #expect(!(try a.stateDict()[0].1.equal(b.stateDict()[0].1)))
  }

  @Test func evalTurnsDropoutOffRecursively() throws {
    let model = Sequential([Dropout(0.5), Sequential([Dropout(0.5)])])
    model.eval()
    #expect(model.namedModules().allSatisfy { !$0.1.isTraining })
    let x = try Tensor.ones([1000])
    #expect(try model(x).equal(x))
  }

  @Test func defaultInitialisationHasPyTorchsBounds() throws {
    let conv = try Conv2d(16, 8, kernelSize: 3, generator: Generator(seed: 0))
    let bound = 1 / (16.0 * 9).squareRoot()
    #expect(try conv.weight.value.abs().max().item() <= bound)
    #expect(try conv.weight.value.abs().max().item() > 0.9 * bound)
    let meta = try Conv2d(1024, 1024, kernelSize: 3, device: .meta)
    #expect(meta.weight.value.device == .meta && meta.weight.value.shape == [1024, 1024, 3, 3])
  }
}
