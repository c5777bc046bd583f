// ModelConfig's derived quantities: the KV cache a decoded token reads, which
// `bench` divides the device's bandwidth by.
#include <QtTest>

#include "model/config.h"

using namespace ossdesk;

class TestModelConfig : public QObject {
  Q_OBJECT

 private slots:
  void kv_bytes_read_counts_the_keys_in_view() {
    const ModelConfig c = config_preset("20b");  // 24 layers, every other one sliding over 128 keys
    const std::uint64_t per_key = 8 * 64 * 2 * 2;  // kv_dim x (key, value) x f16
    QCOMPARE(c.kv_bytes_read(0, 2), 24 * per_key);
    QCOMPARE(c.kv_bytes_read(127, 2), 24 * 128 * per_key);
    // Past the window the sliding layers stop growing; the full ones do not.
    QCOMPARE(c.kv_bytes_read(4095, 2), (12 * 4096 + 12 * 128) * per_key);
    QCOMPARE(c.kv_bytes_read(4095, 4), 2 * c.kv_bytes_read(4095, 2));
  }

  void kv_bytes_read_follows_the_layer_types() {
    ModelConfig c = config_preset("tiny");
    c.layer_is_sliding.assign(static_cast<std::size_t>(c.num_layers), false);
    const std::uint64_t full = c.kv_bytes_read(1000, 2);
    c.layer_is_sliding[0] = true;
    const std::uint64_t per_key = static_cast<std::uint64_t>(c.kv_dim()) * 2 * 2;
    QCOMPARE(full - c.kv_bytes_read(1000, 2), static_cast<std::uint64_t>(1001 - c.sliding_window) * per_key);
  }
};

QTEST_APPLESS_MAIN(TestModelConfig)
#include "test_model_config.moc"
