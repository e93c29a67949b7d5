import CTorch
import Glibc

/// A c10d process group: ranks that met through a TCP store at `master:port` and talk over Gloo.
/// Every collective fails with an error (instead of waiting forever) after `timeout` seconds
/// without progress, or as soon as a peer's connection closes.
public final class ProcessGroup {
  let handle: ct_process_group
  public let rank: Int
  public let worldSize: Int

  public init(master: String, port: Int, rank: Int, worldSize: Int, timeout: Double = 60) throws {
    guard worldSize >= 1, (0..<worldSize).contains(rank) else {
      throw TorchError.invalidArgument("rank \(rank) is not in a world of \(worldSize) processes")
    }
    guard (1...65535).contains(port) else { throw TorchError.invalidArgument("port \(port) is not a TCP port") }
    // Gloo writes to its sockets with writev, so a dead peer raises SIGPIPE, which would end this
    // process without a word; ignored (as Python does), the write fails and the collective throws.
    signal(SIGPIPE, SIG_IGN)
    var out: ct_process_group?
    try check(ct_dist_init(master, Int32(port), Int32(rank), Int32(worldSize), Int64(timeout * 1000), &out))
    guard let out else { throw TorchError.libtorch("c10d returned no process group") }
    handle = out
    self.rank = rank
    self.worldSize = worldSize
  }

  deinit { ct_dist_free(handle) }

  /// Sets every tensor, in place, to rank `root`'s values.
  public func broadcast(_ tensors: [Tensor], root: Int = 0) throws {
    guard !tensors.isEmpty else { return }
    let handles: [ct_tensor?] = tensors.map(\.handle)
    try withExtendedLifetime(tensors) { try check(ct_dist_broadcast(handle, handles, Int32(handles.count), Int32(root))) }
  }

  /// Sums `tensor` over the ranks, in place.
  public func allReduceSum(_ tensor: Tensor) throws {
    try withExtendedLifetime(tensor) { try check(ct_dist_all_reduce_sum(handle, tensor.handle)) }
  }

}

/// libtorch's DistributedDataParallel reducer: after `prepareForBackward()`, the next backward pass
/// averages the parameters' gradients over the ranks, each bucket's all-reduce starting while the
/// rest of the backward pass still runs. Backward passes without it (gradient accumulation) stay local.
public final class GradientReducer {
  let handle: ct_reducer
  let parameters: [Tensor]

  public init(group: ProcessGroup, parameters: [Tensor], bucketBytes: Int = 25 << 20) throws {
    guard !parameters.isEmpty else { throw TorchError.invalidArgument("a gradient reducer needs parameters") }
    self.parameters = parameters
    let handles: [ct_tensor?] = parameters.map(\.handle)
    var out: ct_reducer?
    try check(ct_reducer_new(group.handle, handles, Int32(handles.count), Int64(bucketBytes), &out))
    guard let out else { throw TorchError.libtorch("c10d returned no reducer") }
    handle = out
  }

  deinit { ct_reducer_free(handle) }

  public func prepareForBackward() throws { try check(ct_reducer_prepare_for_backward(handle)) }
}
