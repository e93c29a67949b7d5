import CTorch

extension Tensor {
  /// A new CPU tensor holding a copy of `values`, laid out row-major in `shape`.
  public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]) throws {
    let count = shape.reduce(1, *)
    guard count == values.count, shape.allSatisfy({ $0 >= 0 }) else {
      throw TorchError.invalidArgument("\(values.count) values do not fill shape \(shape)")
    }
    let handle = try values.withUnsafeBytes { try Tensor.handle(bytes: $0, shape: shape, dtype: T.dtype) }
    self.init(owning: handle)
  }

  /// A new 1-D tensor holding `values`.
  public convenience init<T: TensorScalar>(_ values: [T]) throws {
    try self.init(values, shape: [values.count])
  }

  /// A 0-d tensor.
  public convenience init<T: TensorScalar>(scalar: T) throws {
    try self.init([scalar], shape: [])
  }

  /// A new CPU tensor holding a copy of raw little-endian element bytes (any dtype, f16/bf16 too).
  public convenience init(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws {
    self.init(owning: try Tensor.handle(bytes: bytes, shape: shape, dtype: dtype))
  }

  /// Checks that a strided view (sizes, strides, offset in elements) stays inside a storage of
  /// `storageElements` elements, without overflow — the guard for views read from files.
  public static func checkView(shape: [Int], strides: [Int], storageOffset: Int, storageElements: Int) throws {
    guard shape.count == strides.count else {
      throw TorchError.invalidArgument("shape \(shape) and strides \(strides) differ in rank")
    }
    guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), storageOffset >= 0 else {
      throw TorchError.invalidArgument("negative size, stride or offset (shape \(shape), strides \(strides), offset \(storageOffset))")
    }
    if shape.contains(0) { return }
    var last = storageOffset
    for (size, stride) in zip(shape, strides) {
      let (product, o1) = (size - 1).multipliedReportingOverflow(by: stride)
      let (sum, o2) = last.addingReportingOverflow(product)
      guard !o1, !o2 else { throw TorchError.invalidArgument("shape \(shape) and strides \(strides) overflow") }
      last = sum
    }
    guard last < storageElements else {
      throw TorchError.invalidArgument(
        "view (shape \(shape), strides \(strides), offset \(storageOffset)) reaches element \(last) of a storage of \(storageElements)")
    }
  }

  private static func handle(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws -> ct_tensor {
    guard shape.allSatisfy({ $0 >= 0 }) else { throw TorchError.invalidArgument("negative dimension in shape \(shape)") }
    var count = 1
    for d in shape {
      let (p, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow else { throw TorchError.invalidArgument("shape \(shape) overflows") }
      count = p
    }
    guard count * dtype.byteSize == bytes.count else {
      throw TorchError.invalidArgument("\(bytes.count) bytes do not fill shape \(shape) of \(dtype)")
    }
    Runtime.ensureConfigured()
    let d = shape.map(Int64.init)
    return try produceHandle { ct_from_data(bytes.baseAddress, Int64(bytes.count), d, Int32(d.count), dtype.rawValue, $0) }
  }

  /// The elements as a Swift array, row-major (the tensor is made contiguous and moved to the CPU).
  public func toArray<T: TensorScalar>(_ type: T.Type = T.self) throws -> [T] {
    guard dtype == T.dtype else {
      throw TorchError.invalidArgument("tensor is \(dtype), asked for \(T.dtype)")
    }
    let n = elementCount
    return try [T](unsafeUninitializedCapacity: n) { buffer, initialized in
      try check(ct_copy_to(handle, buffer.baseAddress, Int64(n * dtype.byteSize)))
      initialized = n
    }
  }

  /// The raw element bytes, row-major, in this tensor's dtype.
  public func bytes() throws -> [UInt8] {
    let n = elementCount * dtype.byteSize
    return try [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
      try check(ct_copy_to(handle, buffer.baseAddress, Int64(n)))
      initialized = n
    }
  }

  /// Converts to float32 and returns the elements.
  public func floats() throws -> [Float] {
    try (dtype == .float32 ? self : to(.float32)).toArray(Float.self)
  }

  /// The single value of a one-element tensor, as a Double.
  public func item() throws -> Double {
    var value = 0.0
    try check(ct_item_double(handle, &value))
    return value
  }

  /// The single value of a one-element integer tensor.
  public func itemInt() throws -> Int {
    var value: Int64 = 0
    try check(ct_item_int64(handle, &value))
    return Int(value)
  }
}
