// What every Vulkan op test shares: a device (software devices allowed, so
// lavapipe runs in CI), a synchronous op runner, helpers to upload buffers and
// build pipelines in the shared-memory or subgroup variant, and a main() that
// skips (exit 77) when the machine has no Vulkan device at all.
#pragma once

#include <QObject>
#include <QtTest>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include "backends/backend.h"
#include "backends/vulkan/vk_device.h"
#include "backends/vulkan/vk_memory.h"
#include "backends/vulkan/vk_pipeline.h"
#include "backends/vulkan/vk_runner.h"
#include "op_checks.h"
#include "util/thread_pool.h"

namespace ossdesk::vk_test {

using test::random_floats;

class VulkanOpTest : public QObject {
 protected:
  std::shared_ptr<vk::Instance> instance_;
  std::unique_ptr<vk::Device> device_;
  std::unique_ptr<vk::OpRunner> runner_;
  ThreadPool pool_{4};

  // Call from initTestCase(); returns the chosen device for logging.
  vk::PhysicalDevice open_device() {
    instance_ = std::make_shared<vk::Instance>();
    BackendOptions o;
    o.allow_software_devices = true;
    const vk::PhysicalDevice pd = vk::select_device(*instance_, o);
    device_ = std::make_unique<vk::Device>(instance_, pd);
    runner_ = std::make_unique<vk::OpRunner>(*device_);
    return pd;
  }

  vk::Buffer device_buffer(const void* data, std::size_t bytes) {
    vk::Buffer b(*device_, std::max<std::size_t>(bytes, 4), vk::MemoryKind::DeviceLocal);
    if (bytes) runner_->upload(b, data, bytes);
    return b;
  }

  // Null when the subgroup variant is asked for and the device lacks subgroup arithmetic.
  std::unique_ptr<vk::ComputePipeline> pipeline(const char* shader, std::uint32_t buffers, std::uint32_t push,
                                                std::vector<std::uint32_t> spec, bool subgroup) {
    vk::PipelineDesc d;
    d.shader = shader;
    d.buffers = buffers;
    d.push_constant_bytes = push;
    d.specialization = std::move(spec);
    d.prefer_subgroup = subgroup;
    auto p = std::make_unique<vk::ComputePipeline>(*device_, d);
    if (p->module_name().ends_with("_subgroup") != subgroup) return nullptr;
    return p;
  }
};

// main() of a Vulkan op test: a private XDG_RUNTIME_DIR when none is set (the
// loader and Mesa warn without one), exit 77 when there is no Vulkan device.
inline int run_vulkan_test(QObject& test, int argc, char** argv) {
  if (!std::getenv("XDG_RUNTIME_DIR")) {
    const std::string dir = std::string(OSSDESK_TEST_WORK_DIR) + "/xdg-runtime";
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0700);
    ::setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
  }
  std::string why;
  if (list_devices("vulkan", true, &why).empty()) {
    std::printf("SKIP: no Vulkan device: %s\n", why.c_str());
    return 77;
  }
  return QTest::qExec(&test, argc, argv);
}

}  // namespace ossdesk::vk_test
