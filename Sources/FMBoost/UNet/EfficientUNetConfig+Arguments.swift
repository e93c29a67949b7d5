/// Reads a constructor argument by its original name, with the class default when it is absent:
/// from a model file's JSON (`Decodable`) or from a training config's YAML (`TrainingConfig`).
public protocol ConfigArgumentReader {
  func read<T: Decodable>(_ name: String, default value: T) throws -> T
}

extension EfficientUNetConfig {
  /// One constructor argument: its original name and the property it sets.
  public struct Argument {
    public let name: String
    let read: (inout EfficientUNetConfig, any ConfigArgumentReader) throws -> Void
    let write: (EfficientUNetConfig, inout KeyedEncodingContainer<ArgumentKey>) throws -> Void

    init<T: Codable>(_ name: String, _ property: WritableKeyPath<EfficientUNetConfig, T>) {
      self.name = name
      read = { config, reader in config[keyPath: property] = try reader.read(name, default: config[keyPath: property]) }
      write = { config, container in try container.encode(config[keyPath: property], forKey: ArgumentKey(name)) }
    }
  }

  /// Every argument, the one list that decoding, encoding and the training config go through.
  public static var arguments: [Argument] {
    [
      Argument("in_channels", \.inChannels), Argument("model_channels", \.modelChannels), Argument("out_channels", \.outChannels),
      Argument("num_res_blocks", \.numResBlocks), Argument("channel_mult", \.channelMult),
      Argument("attention_resolutions", \.attentionResolutions), Argument("dropout", \.dropout),
      Argument("conv_resample", \.convResample), Argument("dim_head", \.dimHead), Argument("num_heads", \.numHeads),
      Argument("use_linear_attn", \.useLinearAttn), Argument("use_scale_shift_norm", \.useScaleShiftNorm),
      Argument("pool_factor", \.poolFactor), Argument("use_group_norm", \.useGroupNorm), Argument("middle_attention", \.middleAttention),
    ]
  }

  /// The class defaults, with every argument `reader` has.
  public init(reading reader: some ConfigArgumentReader) throws {
    self.init()
    for argument in Self.arguments { try argument.read(&self, reader) }
  }

  public init(from decoder: any Decoder) throws {
    try self.init(reading: DecoderArguments(container: try decoder.container(keyedBy: ArgumentKey.self)))
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: ArgumentKey.self)
    for argument in Self.arguments { try argument.write(self, &container) }
  }

  public struct ArgumentKey: CodingKey {
    public let stringValue: String
    public var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
  }

  struct DecoderArguments: ConfigArgumentReader {
    let container: KeyedDecodingContainer<ArgumentKey>
    func read<T: Decodable>(_ name: String, default value: T) throws -> T {
      try container.decodeIfPresent(T.self, forKey: ArgumentKey(name)) ?? value
    }
  }
}
