import CTorch

/// A seedable CPU random-number generator (libtorch's Mersenne Twister, as `torch.Generator`),
/// so the same seed gives the same draws as PyTorch for the same sequence of calls.
public final class Generator {
  let handle: ct_generator
  private let owned: Bool

  public init(seed: UInt64) throws {
    var out: ct_generator?
    try check(ct_generator_new(seed, &out))
    guard let handle = out else { throw TorchError.libtorch("could not create a generator") }
    self.handle = handle
    owned = true
  }

  private init(borrowing handle: ct_generator) {
    self.handle = handle
    owned = false
  }

  deinit { if owned { ct_generator_free(handle) } }

  /// libtorch's process-wide default generator (what `torch.manual_seed` seeds).
  public static var defaultGenerator: Generator { Generator(borrowing: ct_generator_default()) }

  /// Re-seeds the generator (`manual_seed`).
  public func seed(_ seed: UInt64) throws { try check(ct_generator_set_seed(handle, seed)) }

  /// The full generator state as a uint8 tensor (for checkpoints).
  public func state() throws -> Tensor { try produce { ct_generator_get_state(handle, $0) } }

  /// Restores a state from `state()`.
  public func setState(_ state: Tensor) throws {
    try withExtendedLifetime(state) { try check(ct_generator_set_state(handle, state.handle)) }
  }
}
