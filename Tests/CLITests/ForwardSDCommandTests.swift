import Checkpoint
import Foundation
import TestSupport
import Testing
import Torch

/// The Stable Diffusion parity tools from the command line against `golden-sd`: `tokenize`,
/// `forward sd-unet`, `forward clip-text` and `forward sd-sample` (DPM-Solver++ with guidance, LCM
/// with the w-embedding and the stored step noise).
@Suite struct ForwardSDCommandTests {
  static let sd = TinyStableDiffusion.goldenSD

  static func close(_ output: String, _ name: String, _ reference: Tensor) throws {
    let ours = try SafeTensorsFile(path: output).tensor(name)
    let error = try ours.maxAbsDifference(reference), scale = try reference.abs().max().item()
    #expect(error <= 1e-4 * max(1, scale), "\(name): \(error) at scale \(scale)")
  }

  static func forward(_ arguments: [String], inputs: [(String, Tensor)]) throws -> String {
    let dir = try temporaryDirectory("forward-sd")
    let (inputPath, out) = (dir.appendingPathComponent("in.safetensors"), dir.appendingPathComponent("out.safetensors").path)
    try SafeTensors.write(inputs, to: inputPath)
    let result = try CommandRunner.fmboost(["forward"] + arguments + ["--inputs", inputPath.path, "--output", out])
    #expect(result.status == 0, "\(result.error)")
    return out
  }

  @Test func tokenizePrintsTheReferenceIDs() throws {
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.sd + "clip_tokenizer.json"))) as? [String: Any])
    let prompts = try #require(json["prompts"] as? [[String: Any]]).prefix(6)
    let result = try CommandRunner.fmboost(["tokenize", "--vocabulary", TinyStableDiffusion.vocabulary] + prompts.map { $0["prompt"] as! String })
    #expect(result.status == 0, "\(result.error)")
    let lines = result.output.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [Int] }
    #expect(lines.count == prompts.count)
    for (line, prompt) in zip(lines, prompts) { #expect(line == prompt["input_ids"] as? [Int], "\(prompt["prompt"]!)") }
  }

  @Test func sdUNetAndCLIPTextMatchTheReference() throws {
    let io = try SafeTensorsFile(path: Self.sd + "sd_unet_tiny.io.safetensors")
    let eps = try Self.forward(["sd-unet", "--model", Self.sd + "sd_unet_tiny.ldm.safetensors"],
                               inputs: [("x", try io.tensor("x")), ("t", try io.tensor("t")), ("context", try io.tensor("context"))])
    try Self.close(eps, "eps", io.tensor("eps"))
    let text = try SafeTensorsFile(path: Self.sd + "clip_text_tiny.io.safetensors")
    let hidden = try Self.forward(["clip-text", "--model", Self.sd + "clip_text_tiny.ldm.safetensors"], inputs: [("input_ids", try text.tensor("input_ids"))])
    try Self.close(hidden, "last_hidden_state", text.tensor("last_hidden_state"))
    try Self.close(hidden, "clip_skip_2", text.tensor("clip_skip_2"))
  }

  @Test func sdSampleRunsDiffusersLoops() throws {
    let dpm = try SafeTensorsFile(path: Self.sd + "sched_dpmpp_2m.safetensors")
    let guided = try Self.forward(["sd-sample", "--model", Self.sd + "sd_unet_tiny.ldm.safetensors", "--scheduler", "dpmpp-2m", "--steps", "8", "--cfg-scale", "7.5"],
                                  inputs: try ["x_T", "cond", "uncond"].map { ($0, try dpm.tensor($0)) })
    try Self.close(guided, "x_0", dpm.tensor("x_0"))
    let lcm = try SafeTensorsFile(path: Self.sd + "sched_lcm.safetensors")
    let noise = try (0..<3).map { ("noise.\($0)", try lcm.tensor("step\($0).noise")) }
    let consistency = try Self.forward(["sd-sample", "--model", Self.sd + "sd_unet_tiny_lcm.diffusers.safetensors", "--scheduler", "lcm", "--steps", "4", "--cfg-scale", "8.5"],
                                       inputs: try [("x_T", try lcm.tensor("x_T")), ("cond", try lcm.tensor("cond"))] + noise)
    try Self.close(consistency, "x_0", lcm.tensor("x_0"))
  }
}
