import CTorch

/// Runs `body` with gradient recording off on this thread (as `torch.no_grad()`), restoring the
/// previous mode afterwards, also when `body` throws.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
  let previous = ct_grad_enabled()
  ct_set_grad_enabled(false)
  defer { ct_set_grad_enabled(previous) }
  return try body()
}

/// Runs `body` with gradient recording on (inside an outer `withNoGrad`, for example).
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
  let previous = ct_grad_enabled()
  ct_set_grad_enabled(true)
  defer { ct_set_grad_enabled(previous) }
  return try body()
}

/// Runs `body` under autocast on `device`'s type (CPU or CUDA): convolutions, linear layers and
/// matrix products compute in `dtype`, reductions and losses in float32, as `torch.autocast` does.
/// `dtype` must be one `autocastSupports` accepts there.
public func withAutocast<R>(_ dtype: DType = .bfloat16, on device: Device = .cpu, _ body: () throws -> R) rethrows -> R {
  precondition(autocastSupports(dtype, on: device), "this libtorch's \(device) autocast does not compute in \(dtype)")
  let previous = ct_autocast_enabled(device.code)
  ct_set_autocast(device.code, true, dtype.rawValue)
  defer { ct_set_autocast(device.code, previous, dtype.rawValue) }
  return try body()
}

/// Whether `withAutocast` can compute in `dtype` on `device` (1.13's CPU autocast: bfloat16 only;
/// no autocast on meta or MPS here).
public func autocastSupports(_ dtype: DType, on device: Device = .cpu) -> Bool {
  switch device {
  case .cpu: return ct_autocast_supports(device.code, dtype.rawValue)
  case .cuda: return ct_cuda_built() && ct_autocast_supports(device.code, dtype.rawValue)
  case .meta, .mps: return false
  }
}

/// Whether operations on this thread record gradients.
public var isGradEnabled: Bool { ct_grad_enabled() }

extension Tensor {
  public var requiresGrad: Bool { ct_requires_grad(handle) }

  /// Marks this (leaf) tensor as requiring gradients; returns self for chaining.
  @discardableResult
  public func requiresGrad(_ on: Bool) throws -> Tensor {
    try check(ct_set_requires_grad(handle, on))
    return self
  }

  /// Back-propagates from this tensor (a scalar, or with `gradient` of the same shape).
  public func backward(_ gradient: Tensor? = nil) throws {
    try withExtendedLifetime(gradient) { try check(ct_backward(handle, gradient?.handle)) }
  }

  /// The accumulated gradient, or nil when none has been computed.
  public var grad: Tensor? {
    var out: ct_tensor?
    guard ct_grad(handle, &out) == 0, let h = out else { return nil }
    return Tensor(owning: h)
  }

  /// Drops the gradient (as `zero_grad(set_to_none=True)`).
  public func zeroGrad() throws { try check(ct_set_grad_undefined(handle)) }

  /// The same values without autograd history.
  public func detach() throws -> Tensor { try produce { ct_detach(handle, $0) } }
}

/// Scales the gradients of `parameters` in place so that their joint L2 norm is at most `maxNorm`
/// (as `torch.nn.utils.clip_grad_norm_`). Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Double) throws -> Double {
  let total = try gradNorm(parameters)
  let coefficient = maxNorm / (total + 1e-6)
  if coefficient < 1 {
    try withNoGrad {
      for g in parameters.compactMap(\.grad) { try g.mul_(coefficient) }
    }
  }
  return total
}

/// sqrt(Σ‖grad‖²) over the parameters that have gradients.
public func gradNorm(_ parameters: [Tensor]) throws -> Double {
  try withNoGrad {
    var sumOfSquares = 0.0
    for g in parameters.compactMap(\.grad) {
      let n = try g.norm().item()
      sumOfSquares += n * n
    }
    return sumOfSquares.squareRoot()
  }
}
