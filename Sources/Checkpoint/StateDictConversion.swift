import Foundation

/// A checkpoint's state_dict written as safetensors (atomically), key names kept: optionally one
/// copy of FMBoost's flow network, or the keys under a prefix, without it.
public enum StateDictConversion {
  public struct Summary {
    public let tensors: Int
    public let elements: Int
    /// Classes the file recorded by name that were never constructed.
    public let skippedClasses: [String]
  }

  public static func convert(_ input: String, to output: String, weights: StateDictSelection.Weights? = nil, stripPrefix: String? = nil) throws -> Summary {
    let file = try TensorFile(path: input)
    var stateDict = try file.stateDict()
    if let weights { stateDict = try StateDictSelection.strip(stateDict, prefix: weights.prefix, file: input) }
    if let stripPrefix { stateDict = try StateDictSelection.strip(stateDict, prefix: stripPrefix, file: input) }
    var metadata = file.metadata
    metadata["converted_from"] = URL(fileURLWithPath: input).lastPathComponent
    try SafeTensors.write(stateDict, metadata: metadata, to: URL(fileURLWithPath: output))
    return Summary(tensors: stateDict.count, elements: stateDict.reduce(0) { $0 + $1.1.elementCount }, skippedClasses: file.skippedClasses)
  }
}
