import Testing
import Torch

/// The caching CPU allocator (Sources/CTorch/shim_alloc.cpp): large blocks are reused and split,
/// never handed out while live, and returned to the system on request.
@Suite(.enabled(if: Runtime.cachesLargeBlocks)) struct CachingAllocatorTests {
  static let mib = 1 << 20

  @Test func aFreedLargeBlockServesTheNextRequestOfItsSize() throws {
    _ = try Tensor.zeros([4, Self.mib])  // 16 MiB, freed at once
    let before = Runtime.allocatorStatistics
    let t = try Tensor.full([4, Self.mib], 2)
    let after = Runtime.allocatorStatistics
    #expect(after.maps == before.maps)
    #expect(after.hits == before.hits + 1)
    #expect(after.liveBytes >= before.liveBytes + 16 * Self.mib)
    #expect(try t.sum().item() == Double(8 * Self.mib))
  }

  /// A 64 MiB block, freed, is split for a 16 MiB and a 32 MiB request: no new memory is mapped.
  @Test func aLargerFreeBlockIsSplitForSmallerRequests() throws {
    Runtime.releaseFreedMemory()
    _ = try Tensor.zeros([16, Self.mib])
    let before = Runtime.allocatorStatistics
    #expect(before.cachedBytes >= 64 * Self.mib)
    let a = try Tensor.full([4, Self.mib], 1), b = try Tensor.full([8, Self.mib], 3)
    let after = Runtime.allocatorStatistics
    #expect(after.maps == before.maps)
    #expect(after.hits == before.hits + 2)
    #expect(after.mappedBytes == before.mappedBytes)
    #expect(after.mappedTotalBytes == before.mappedTotalBytes)
    // The two tensors live in disjoint parts: writing one leaves the other as it was.
    try a.fill_(5)
    #expect(try b.sum().item() == Double(3 * 8 * Self.mib))
    #expect(try a.sum().item() == Double(5 * 4 * Self.mib))
  }

  /// Freed neighbours merge: two pieces split from one block, once freed, serve with the rest of it
  /// a request larger than any of them, and no new memory is mapped.
  @Test func freedNeighboursMergeToServeALargerRequest() throws {
    Runtime.releaseFreedMemory()
    _ = try Tensor.zeros([16, Self.mib])  // 64 MiB, cached as one block
    do {
      let a = try Tensor.full([4, Self.mib], 1), b = try Tensor.full([4, Self.mib], 2)
      #expect(try a.sum().item() + b.sum().item() == Double(12 * Self.mib))
    }
    let before = Runtime.allocatorStatistics
    let large = try Tensor.full([15, Self.mib], 3)  // 60 MiB: more than the pieces or the rest alone
    let after = Runtime.allocatorStatistics
    #expect(after.maps == before.maps)
    #expect(after.hits == before.hits + 1)
    #expect(after.mappedTotalBytes == before.mappedTotalBytes)
    #expect(try large.sum().item() == Double(45 * Self.mib))
  }

  @Test func releasingFreedMemoryUnmapsEveryCachedBlock() throws {
    let live = try Tensor.zeros([2, Self.mib])
    _ = try Tensor.zeros([8, Self.mib])
    #expect(Runtime.allocatorStatistics.cachedBytes > 0)
    Runtime.releaseFreedMemory()
    let s = Runtime.allocatorStatistics
    #expect(s.cachedBytes == 0)
    #expect(s.mappedBytes == s.liveBytes)
    #expect(s.highWaterBytes == s.liveBytes)
    // The next large request is mapped afresh and counted.
    let fresh = try Tensor.zeros([3, Self.mib])
    #expect(Runtime.allocatorStatistics.mappedTotalBytes >= s.mappedTotalBytes + 12 * Self.mib)
    #expect(try fresh.sum().item() == 0)
    #expect(try live.sum().item() == 0)
  }

  /// Blocks below 1 MiB go to malloc and leave the large-block counters alone.
  @Test func smallBlocksBypassTheCache() throws {
    let before = Runtime.allocatorStatistics
    let t = try Tensor.ones([1000])
    let after = Runtime.allocatorStatistics
    #expect(after.hits == before.hits && after.maps == before.maps)
    #expect(try t.sum().item() == 1000)
  }
}
