// The CPU allocator: large blocks (activations, weights) are mapped once and kept for reuse.
//
// libtorch's default allocator hands every block to malloc. Blocks past glibc's mmap threshold are
// mapped and unmapped per use; kept in the heap instead (ct_keep_freed_memory) they still come back
// as fresh pages whenever the heap grows, and a network's activations of many sizes fragment it. On
// these VMs every first touch of a page costs about 5 s of system time per GB (4-16 µs per 4 KB
// fault): the paper-config upsample spent a third of its CPU time in the kernel. Here a freed large block waits in a cache for the next request
// that fits (the same shapes recur every layer and every ODE step), merged with any cached block
// next to it in memory so that pieces split off for small requests can serve a large one again (the
// paper-config upsample mapped 9.1 GB for a 4.6 GB high-water mark without it), and blocks from 64 MB up are
// mapped 2 MB-aligned with transparent huge pages, so a first touch maps 2 MB at once. (Huge pages
// from 8 MB up made the default model's 512 -> 1024 px slower: 2.46-2.54 s against 1.86-2.01 s,
// system time 1.1-1.3 s against 0.4-0.5 s; without any, the paper-config upsample's system time
// rose from 21 to 29 s.)
//
// The cache never makes the process much bigger than the largest live set it has had: on a miss,
// cached blocks are unmapped (least recently freed first) until the live, cached and new bytes
// together fit under that high-water mark plus 1/8 and 64 MB. ct_release_cached_blocks unmaps the
// whole cache and resets the mark (called when a stage's network is dropped).
#include "shim_internal.h"

#include <c10/core/CPUAllocator.h>

#include <sys/mman.h>

#include <list>
#include <map>
#include <mutex>

namespace {

constexpr size_t kLargeBlock = size_t(1) << 20;  // below: malloc, as libtorch's default allocator
constexpr size_t kHugeBlock = size_t(64) << 20;  // from here: 2 MB-aligned, transparent huge pages
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kPage = size_t(64) << 10;
constexpr size_t kAlignment = 64;  // libtorch's gAlignment
constexpr size_t kSlack = size_t(64) << 20;

size_t round_up(size_t n, size_t step) { return (n + step - 1) / step * step; }

struct Block {
  void *data;
  size_t size;
};

class LargeBlockCache {
 public:
  // Returns a block of at least n bytes (n >= kLargeBlock) and its size.
  Block take(size_t n) {
    size_t size = n >= kHugeBlock ? round_up(n, kHugePage) : round_up(n, kPage);
    std::lock_guard<std::mutex> lock(mutex_);
    // The smallest cached block that is large enough; a larger one is split, its front lent and
    // the rest kept (parts of a mapping can be unmapped on their own), so its pages, already
    // touched, serve smaller requests instead of new ones being faulted in.
    auto fit = by_size_.lower_bound(size);
    if (fit != by_size_.end()) {
      Block b = *fit->second;
      forget(fit->second);
      if (b.size > size) {
        keep({static_cast<uint8_t *>(b.data) + size, b.size - size});
        b.size = size;
      }
      hits_++;
      return lend(b);
    }
    size_t ceiling = std::max(high_water_ + high_water_ / 8 + kSlack, live_ + size);
    while (!lru_.empty() && live_ + cached_ + size > ceiling) evict_oldest();
    maps_++;
    mapped_total_ += size;
    return lend({map(size), size});
  }

  void give_back(void *data) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_blocks_.find(data);
    if (it == live_blocks_.end()) return;  // not ours: cannot happen, never crash over it
    Block b{data, it->second};
    live_blocks_.erase(it);
    live_ -= b.size;
    keep(b);
  }

  void release_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!lru_.empty()) evict_oldest();
    high_water_ = live_;
  }

  ct_allocator_stats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    auto i = [](size_t n) { return static_cast<int64_t>(n); };
    return {i(hits_), i(maps_), i(live_), i(cached_), i(high_water_), i(mapped_total_)};
  }

 private:
  Block lend(Block b) {
    live_blocks_.emplace(b.data, b.size);
    live_ += b.size;
    high_water_ = std::max(high_water_, live_);
    return b;
  }

  // Caches a free block, merged with the cached blocks right before and after it in memory (parts of
  // one split block, or neighbouring mappings: one range of private anonymous pages either way), so
  // that freed pieces can serve a larger request again instead of new pages being mapped for it.
  void keep(Block b) {
    auto *start = static_cast<uint8_t *>(b.data);
    auto after = by_address_.find(start + b.size);
    if (after != by_address_.end()) {
      b.size += after->second->size;
      forget(after->second);
    }
    auto before = by_address_.lower_bound(start);
    if (before != by_address_.begin()) {
      auto candidate = std::prev(before)->second;
      if (static_cast<uint8_t *>(candidate->data) + candidate->size == start) {
        b.data = candidate->data;
        b.size += candidate->size;
        forget(candidate);
      }
    }
    lru_.push_back(b);
    by_size_.emplace(b.size, std::prev(lru_.end()));
    by_address_.emplace(static_cast<uint8_t *>(b.data), std::prev(lru_.end()));
    cached_ += b.size;
  }

  // Removes a cached block from the cache's books (its memory stays mapped).
  void forget(std::list<Block>::iterator block) {
    auto range = by_size_.equal_range(block->size);
    for (auto it = range.first; it != range.second; ++it)
      if (it->second == block) {
        by_size_.erase(it);
        break;
      }
    by_address_.erase(static_cast<uint8_t *>(block->data));
    cached_ -= block->size;
    lru_.erase(block);
  }

  void evict_oldest() {
    Block b = lru_.front();
    forget(lru_.begin());
    munmap(b.data, b.size);
  }

  static void *map(size_t size) {
    bool huge = size >= kHugeBlock;
    size_t span = huge ? size + kHugePage : size;
    void *p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TORCH_CHECK(p != MAP_FAILED, "out of memory: could not map ", size, " bytes (", strerror(errno), ")");
    if (!huge) return p;
    // Trim the mapping to a 2 MB-aligned start so that its pages can be huge ones.
    auto start = reinterpret_cast<uintptr_t>(p), aligned = round_up(start, kHugePage);
    if (aligned > start) munmap(p, aligned - start);
    size_t tail = start + span - (aligned + size);
    if (tail > 0) munmap(reinterpret_cast<void *>(aligned + size), tail);
    madvise(reinterpret_cast<void *>(aligned), size, MADV_HUGEPAGE);
    return reinterpret_cast<void *>(aligned);
  }

  std::mutex mutex_;
  std::list<Block> lru_;  // cached blocks, least recently freed first
  std::multimap<size_t, std::list<Block>::iterator> by_size_;
  std::map<uint8_t *, std::list<Block>::iterator> by_address_;
  std::map<void *, size_t> live_blocks_;
  size_t live_ = 0, cached_ = 0, high_water_ = 0;  // bytes
  size_t hits_ = 0, maps_ = 0, mapped_total_ = 0;
};

// Never destroyed: tensors may outlive static destruction at exit.
LargeBlockCache &cache() {
  static auto *c = new LargeBlockCache();
  return *c;
}

void free_block(void *data) {
  if (data == nullptr) return;
  auto *header = static_cast<uint8_t *>(data) - kAlignment;
  if (*reinterpret_cast<uint64_t *>(header) == 0) {
    free(header);
  } else {
    cache().give_back(header);
  }
}

// Every block carries one alignment unit in front of it that says where it came from (0: malloc,
// else the cache), so the deleter needs no lookup for the many small blocks.
struct CachingCPUAllocator final : at::Allocator {
  at::DataPtr allocate(size_t n)
#if TORCH_VERSION_MAJOR < 2
      const
#endif
      override {
    if (n == 0) return {nullptr, nullptr, &free_block, at::Device(at::kCPU)};
    uint8_t *header;
    if (n + kAlignment < kLargeBlock) {
      void *p = nullptr;
      if (posix_memalign(&p, kAlignment, n + kAlignment) != 0 || p == nullptr)
        TORCH_CHECK(false, "out of memory: could not allocate ", n, " bytes");
      header = static_cast<uint8_t *>(p);
      *reinterpret_cast<uint64_t *>(header) = 0;
    } else {
      header = static_cast<uint8_t *>(cache().take(n + kAlignment).data);
      *reinterpret_cast<uint64_t *>(header) = 1;
    }
    void *data = header + kAlignment;
    return {data, data, &free_block, at::Device(at::kCPU)};
  }

  at::DeleterFnPtr raw_deleter() const override { return &free_block; }

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  void copy_data(void *dest, const void *src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#endif
};

}  // namespace

void ct_use_caching_allocator(void) {
  static CachingCPUAllocator allocator;
  c10::SetCPUAllocator(&allocator, /*priority=*/1);
}

void ct_release_cached_blocks(void) { cache().release_all(); }

ct_allocator_stats ct_get_allocator_stats(void) { return cache().stats(); }
