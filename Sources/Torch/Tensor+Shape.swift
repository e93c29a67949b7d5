import CTorch

extension Tensor {
  public func reshape(_ shape: [Int]) throws -> Tensor {
    let d = shape.map(Int64.init)
    return try produce { ct_reshape(handle, d, Int32(d.count), $0) }
  }

  /// A view with a new shape (fails when the memory layout does not allow one).
  public func view(_ shape: [Int]) throws -> Tensor {
    let d = shape.map(Int64.init)
    return try produce { ct_view(handle, d, Int32(d.count), $0) }
  }

  public func flatten() throws -> Tensor { try reshape([-1]) }

  public func permute(_ dims: [Int]) throws -> Tensor {
    let d = dims.map(Int64.init)
    return try produce { ct_permute(handle, d, Int32(d.count), $0) }
  }

  public func transpose(_ d0: Int, _ d1: Int) throws -> Tensor {
    try produce { ct_transpose(handle, Int64(d0), Int64(d1), $0) }
  }

  public func expand(_ shape: [Int]) throws -> Tensor {
    let d = shape.map(Int64.init)
    return try produce { ct_expand(handle, d, Int32(d.count), $0) }
  }

  /// A view of this tensor's storage with explicit sizes, strides and offset (in elements).
  /// The caller guarantees the view stays inside the storage (`torch.as_strided`).
  public func asStrided(shape: [Int], strides: [Int], storageOffset: Int) throws -> Tensor {
    guard shape.count == strides.count else {
      throw TorchError.invalidArgument("shape \(shape) and strides \(strides) differ in rank")
    }
    let d = shape.map(Int64.init), s = strides.map(Int64.init)
    return try produce { ct_as_strided(handle, d, s, Int32(d.count), Int64(storageOffset), $0) }
  }

  public func contiguous() throws -> Tensor { try produce { ct_contiguous(handle, 0, $0) } }

  /// The same values in channels-last (NHWC) memory order, for 4-D tensors.
  public func channelsLast() throws -> Tensor { try produce { ct_contiguous(handle, 1, $0) } }

  /// A copy with its own storage.
  public func clone() throws -> Tensor { try produce { ct_clone(handle, $0) } }

  public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
    try withExtendedLifetime(tensors) {
      let handles: [ct_tensor?] = tensors.map { $0.handle }
      return try produce { ct_cat(handles, Int32(handles.count), Int64(dim), $0) }
    }
  }

  public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
    try withExtendedLifetime(tensors) {
      let handles: [ct_tensor?] = tensors.map { $0.handle }
      return try produce { ct_stack(handles, Int32(handles.count), Int64(dim), $0) }
    }
  }

  /// `length` entries of `dim` from `start` (a view).
  public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
    try produce { ct_narrow(handle, Int64(dim), Int64(start), Int64(length), $0) }
  }

  /// Entries start..<end by `step` along `dim` (a view).
  public func slice(dim: Int, start: Int = 0, end: Int = Int.max, step: Int = 1) throws -> Tensor {
    try produce { ct_slice(handle, Int64(dim), Int64(start), Int64(end), Int64(step), $0) }
  }

  /// Splits into `chunks` nearly equal pieces along `dim` (as `torch.chunk`).
  public func chunk(_ chunks: Int, dim: Int = 0) throws -> [Tensor] {
    guard chunks > 0 else { throw TorchError.invalidArgument("chunk count must be positive") }
    let n = size(dim)
    let piece = (n + chunks - 1) / chunks
    return try split(size: Swift.max(piece, 1), dim: dim)
  }

  /// Splits into pieces of `size` along `dim`; the last may be smaller (as `torch.split`).
  public func split(size piece: Int, dim: Int = 0) throws -> [Tensor] {
    guard piece > 0 else { throw TorchError.invalidArgument("split size must be positive") }
    let n = size(dim)
    return try stride(from: 0, to: n, by: piece).map {
      try narrow(dim: dim, start: $0, length: Swift.min(piece, n - $0))
    }
  }

  /// Splits into pieces of the given sizes along `dim`.
  public func split(sizes: [Int], dim: Int = 0) throws -> [Tensor] {
    guard sizes.reduce(0, +) == size(dim) else {
      throw TorchError.invalidArgument("split sizes \(sizes) do not add up to \(size(dim))")
    }
    var start = 0
    return try sizes.map { length in
      defer { start += length }
      return try narrow(dim: dim, start: start, length: length)
    }
  }

  /// The slice at `index` of `dim`, with that dimension removed.
  public func select(dim: Int, index: Int) throws -> Tensor {
    try produce { ct_select(handle, Int64(dim), Int64(index), $0) }
  }

  public subscript(index: Int) -> Tensor {
    get throws { try select(dim: 0, index: index) }
  }

  /// Gathers the entries of `dim` listed in the int64 tensor `indices`.
  public func indexSelect(dim: Int, _ indices: Tensor) throws -> Tensor {
    try withExtendedLifetime(indices) { try produce { ct_index_select(handle, Int64(dim), indices.handle, $0) } }
  }

  /// The elements where the bool `mask` is true, as a 1-D tensor.
  public func maskedSelect(_ mask: Tensor) throws -> Tensor {
    try withExtendedLifetime(mask) { try produce { ct_masked_select(handle, mask.handle, $0) } }
  }

  public func flip(_ dims: [Int]) throws -> Tensor {
    let d = dims.map(Int64.init)
    return try produce { ct_flip(handle, d, Int32(d.count), $0) }
  }

  public func squeeze(dim: Int) throws -> Tensor { try produce { ct_squeeze(handle, Int64(dim), $0) } }
  public func unsqueeze(dim: Int) throws -> Tensor { try produce { ct_unsqueeze(handle, Int64(dim), $0) } }

  public enum PadMode: Int32, Sendable { case constant = 0, reflect, replicate, circular }

  /// Pads the trailing dimensions as `F.pad`: `pads` = [left, right, top, bottom, ...].
  public func pad(_ pads: [Int], mode: PadMode = .constant, value: Double = 0) throws -> Tensor {
    let p = pads.map(Int64.init)
    return try produce { ct_pad(handle, p, Int32(p.count), mode.rawValue, value, $0) }
  }

  /// Converts to `dtype` (returns a new tensor even when the dtype is the same).
  public func to(_ dtype: DType) throws -> Tensor { try produce { ct_to_dtype(handle, dtype.rawValue, $0) } }

  public func to(_ device: Device) throws -> Tensor {
    try produce { ct_to_device(handle, device.code, device.index, $0) }
  }
}
