import Torch

extension Module {
  /// Stores every 4-D parameter (convolution weights) in channels-last order, the layout oneDNN's
  /// convolutions work in. A convolution with a channels-last weight returns a channels-last output
  /// whatever its input's layout, so the network's activations follow without further conversion.
  public func useChannelsLast() throws {
    try withNoGrad {
      for (_, slot) in namedSlots() where slot.value.rank == 4 {
        let trainable = slot.value.requiresGrad
        slot.value = try slot.value.channelsLast()
        if trainable { _ = try slot.value.requiresGrad(true) }
      }
    }
  }
}
