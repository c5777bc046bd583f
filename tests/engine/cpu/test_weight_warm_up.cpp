// The CPU backend's background read of the weights after a load: PageWarmer
// reads every byte of its ranges into the page cache (seen with mincore after
// the file was dropped from it) and stops between chunks when asked; the rule
// warms only what fits in free memory; the ranges come in the order the
// forward pass reads them, without the embedding table; and a loaded CPU
// backend ends with its weights in memory and says so.
#include <QtTest>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/weight_warm_up.h"
#include "model/model.h"
#include "model/synth.h"
#include "scratch_dir.h"
#include "util/mapped_file.h"
#include "util/page_warmer.h"
#include "util/system_memory.h"

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

using namespace ossdesk;
using Range = std::span<const std::uint8_t>;

namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

// Drops the file's pages from the page cache. False where that cannot be done
// or seen (tmpfs keeps them; Windows has no mincore), and the tests that need
// a cold file skip.
bool evict_from_page_cache(const std::filesystem::path& path) {
#ifdef _WIN32
  (void)path;
  return false;
#else
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  ::fdatasync(fd);  // dirty pages cannot be dropped
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  MappedFile file(path.string());
  const std::optional<std::uint64_t> resident = resident_bytes(file.bytes());
  return resident && *resident < file.size();
#endif
}

std::filesystem::path random_file(const std::string& name, std::size_t size) {
  std::vector<char> bytes(size);
  std::mt19937 rng(7);
  for (char& b : bytes) b = static_cast<char>(rng());
  const auto path = test::scratch_dir(name) / "data.bin";
  test::write_bytes(path, bytes);
  return path;
}

std::uint64_t resident(const std::vector<Range>& ranges) {
  std::uint64_t sum = 0;
  for (const Range& r : ranges) sum += resident_bytes(r).value_or(0);
  return sum;
}

std::uint64_t total(const std::vector<Range>& ranges) {
  std::uint64_t sum = 0;
  for (const Range& r : ranges) sum += r.size();
  return sum;
}

// The layer a stored tensor belongs to by its name in either format; -1 for
// the embedding, a large number for what comes after the layers.
int layer_of(const std::string& name) {
  for (const std::string prefix : {"blk.", "model.layers."})
    if (name.rfind(prefix, 0) == 0) return std::stoi(name.substr(prefix.size()));
  if (name == "token_embd.weight" || name == "model.embed_tokens.weight") return -1;
  return 1 << 20;
}

}  // namespace

class TestWeightWarmUp : public QObject {
  Q_OBJECT

 private slots:
  void warmer_reads_every_range() {
    const auto path = random_file("warm_up_ranges", (4u << 20) + 123);
    if (!evict_from_page_cache(path)) QSKIP("this filesystem keeps the test file in the page cache");
    MappedFile file(path.string());
    // Starts and ends off page boundaries, as tensors do.
    const std::vector<Range> ranges = {file.bytes().subspan(100, (1u << 20) + 7),
                                       file.bytes().subspan((2u << 20) + 1)};
    QVERIFY(resident(ranges) < total(ranges));
    std::vector<std::uint64_t> seen;
    PageWarmer warmer(ranges, 256u << 10, [&seen](std::uint64_t done) { seen.push_back(done); });
    QCOMPARE(warmer.total_bytes(), total(ranges));
    warmer.wait();
    QVERIFY(warmer.finished());
    QCOMPARE(warmer.bytes_done(), total(ranges));
    QCOMPARE(resident(ranges), total(ranges));
    QVERIFY(!seen.empty());
    QVERIFY(std::is_sorted(seen.begin(), seen.end()));
    QCOMPARE(seen.back(), total(ranges));
  }

  void warmer_stops_between_chunks() {
    const auto path = random_file("warm_up_stop", 1u << 20);
    MappedFile file(path.string());
    std::atomic<PageWarmer*> self{nullptr};
    std::atomic<int> chunks{0};
    PageWarmer warmer({file.bytes()}, 64u << 10, [&](std::uint64_t) {
      if (chunks.fetch_add(1) == 0) {
        while (!self.load()) std::this_thread::yield();  // the constructor has returned
        self.load()->request_stop();
      }
    });
    self = &warmer;
    warmer.wait();
    QCOMPARE(chunks.load(), 1);
    QCOMPARE(warmer.bytes_done(), std::uint64_t{64u << 10});
    QVERIFY(warmer.finished());
    // Destroyed at once, before or while it reads: it stops and joins.
    for (int i = 0; i < 20; ++i) PageWarmer({file.bytes()}, 4096);
  }

  void resident_bytes_counts_only_the_range() {
    const auto path = random_file("warm_up_resident", 3 * 4096);
    MappedFile file(path.string());
    populate_pages(file.data(), file.size());
    QCOMPARE(resident_bytes(file.bytes()).value_or(0), std::uint64_t{file.size()});
    // Ten bytes across a page boundary count as ten, not two pages.
    QCOMPARE(resident_bytes(file.bytes().subspan(4090, 10)).value_or(0), std::uint64_t{10});
    QCOMPARE(resident_bytes(file.bytes().subspan(0, 0)).value_or(1), std::uint64_t{0});
  }

  void available_memory_is_reported() {
#ifdef _WIN32
    QSKIP("Linux /proc/meminfo");
#else
    const std::optional<std::uint64_t> available = available_memory_bytes();
    QVERIFY(available.has_value());
    const auto physical = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(sysconf(_SC_PAGE_SIZE));
    QVERIFY(*available > 0);
    QVERIFY(*available <= physical);
#endif
  }

  void rule_warms_only_what_fits() {
    using cpu::decide_weight_warm_up;
    using cpu::kWarmUpReserveBytes;
    const std::uint64_t weights = 12 * kGiB;
    // Room for all of it and the reserve.
    QVERIFY(decide_weight_warm_up(weights, 0, weights + kWarmUpReserveBytes).warm());
    QVERIFY(decide_weight_warm_up(weights, 0, weights + kWarmUpReserveBytes).note.empty());
    QCOMPARE(decide_weight_warm_up(weights, 0, weights + kWarmUpReserveBytes).place, WeightsPlace::Reading);
    // One byte short: the user is told every token waits on the disk.
    const cpu::WarmUpDecision short_by_one = decide_weight_warm_up(weights, 0, weights + kWarmUpReserveBytes - 1);
    QVERIFY(!short_by_one.warm());
    QCOMPARE(short_by_one.place, WeightsPlace::Disk);
    QVERIFY2(short_by_one.note.find("too little free memory") != std::string::npos, short_by_one.note.c_str());
    QVERIFY2(short_by_one.note.find("12.00 GiB to read, 13.00 GiB free") != std::string::npos, short_by_one.note.c_str());
    QVERIFY2(short_by_one.note.find("disk") != std::string::npos, short_by_one.note.c_str());
    // What is already cached needs no more room, but free memory counts it as
    // free (the kernel could drop it), and it is to be kept.
    QVERIFY(decide_weight_warm_up(weights, 8 * kGiB, 12 * kGiB + kWarmUpReserveBytes).warm());
    const cpu::WarmUpDecision cached_part = decide_weight_warm_up(weights, 8 * kGiB, 12 * kGiB + kWarmUpReserveBytes - 1);
    QVERIFY(!cached_part.warm());
    QVERIFY2(cached_part.note.find("4.00 GiB to read, 5.00 GiB free") != std::string::npos, cached_part.note.c_str());
    // All of it cached: nothing to read.
    const cpu::WarmUpDecision cached = decide_weight_warm_up(weights, weights, 0);
    QVERIFY(!cached.warm());
    QCOMPARE(cached.place, WeightsPlace::Memory);
    QCOMPARE(cached.note, std::string("weights in memory (12.00 GiB)"));
    // Unknown free memory never risks it; unknown residency counts as nothing cached.
    QVERIFY(!decide_weight_warm_up(weights, 0, std::nullopt).warm());
    QVERIFY(!decide_weight_warm_up(weights, std::nullopt, weights).warm());
    QVERIFY(decide_weight_warm_up(weights, std::nullopt, weights + kWarmUpReserveBytes).warm());
  }

  void ranges_follow_the_forward_pass() {
    for (const bool gguf : {true, false}) {
      const auto dir = test::scratch_dir(gguf ? "warm_up_order_gguf" : "warm_up_order_hf");
      SynthOptions o;
      o.config = config_preset("tiny");
      o.gguf = gguf;
      o.out = (gguf ? dir / "tiny.gguf" : dir / "hf").string();
      // Shards are mapped wherever the OS puts them (later ones usually at
      // lower addresses), so their order in memory is not the layers' order.
      o.shard_bytes = 256u << 10;
      synth_model(o);
      auto model = Model::open(o.out);
      std::map<const std::uint8_t*, std::string> name_at;
      std::uint64_t embedding_bytes = 0, all_bytes = 0;
      for (const TensorView& t : model->tensors()) {
        name_at[t.data] = t.name;
        all_bytes += t.nbytes;
        if (layer_of(t.name) < 0) embedding_bytes += t.nbytes;
      }
      QVERIFY(embedding_bytes > 0);
      const std::vector<Range> ranges = cpu::weight_ranges_in_forward_order(*model);
      QCOMPARE(ranges.size(), model->tensors().size() - 1);  // every tensor but the embedding
      QCOMPARE(total(ranges), all_bytes - embedding_bytes);
      int last_layer = 0;
      for (const Range& r : ranges) {
        QVERIFY(name_at.count(r.data()));
        const std::string& name = name_at[r.data()];
        const int layer = layer_of(name);
        QVERIFY2(layer >= last_layer, (name + " comes after a later layer's tensor").c_str());
        last_layer = layer;
      }
      QCOMPARE(layer_of(name_at[ranges.front().data()]), 0);
      QVERIFY(last_layer > o.config.num_layers);  // the unembedding and final norm come last
    }
  }

  void cpu_backend_reads_its_weights_after_a_load() {
    const auto dir = test::scratch_dir("warm_up_backend");
    SynthOptions o;
    o.config = config_preset("tiny");
    o.gguf = true;
    o.out = (dir / "tiny.gguf").string();
    synth_model(o);
    if (!evict_from_page_cache(o.out)) QSKIP("this filesystem keeps the test model in the page cache");
    auto model = Model::open(o.out);
    const std::vector<Range> ranges = cpu::weight_ranges_in_forward_order(*model);
    BackendOptions options;
    options.context_length = 64;
    auto backend = create_backend("cpu", *model, options, {});
    backend->wait_for_weights();
    QCOMPARE(resident(ranges), total(ranges));
    const WeightsStatus status = backend->weights_status();
    QCOMPARE(status.place, WeightsPlace::Memory);
    QCOMPARE(status.bytes, total(ranges));
    QCOMPARE(status.bytes_read, total(ranges));
    QVERIFY2(status.note == "weights in memory (" + gib_text(total(ranges)) + ")", status.note.c_str());
  }
};

QTEST_GUILESS_MAIN(TestWeightWarmUp)
#include "test_weight_warm_up.moc"
