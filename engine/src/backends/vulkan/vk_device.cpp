#include "backends/vulkan/vk_device.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "backends/vulkan/vk_check.h"
#include "ossdesk/error.h"

namespace ossdesk::vk {
namespace {

const char* vendor_name(std::uint32_t id) {
  switch (id) {
    case 0x1002: return "AMD";
    case 0x10de: return "NVIDIA";
    case 0x8086: return "Intel";
    case 0x13b5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x106b: return "Apple";
    case 0x10005: return "Mesa";
    default: return "unknown vendor";
  }
}

const char* type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "software";
    default: return "other";
  }
}

int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 4;
    default: return 3;
  }
}

// The highest version we use structures and features of. A device is used at
// min(this, its own): a feature promoted to core in a later version than that
// must still be enabled through its extension.
constexpr std::uint32_t kInstanceApiVersion = VK_API_VERSION_1_3;

std::string version_string(std::uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

// Fills everything but `index`; false when the device cannot run our shaders.
bool describe(VkPhysicalDevice pd, PhysicalDevice& out) {
  VkPhysicalDeviceProperties props{};
  vkGetPhysicalDeviceProperties(pd, &props);
  if (props.apiVersion < VK_API_VERSION_1_1) return false;
  const std::uint32_t usable_version = std::min(props.apiVersion, kInstanceApiVersion);

  std::uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> queues(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, queues.data());
  // Prefer a compute-only family (async compute on discrete GPUs), else any with compute.
  int family = -1;
  for (std::uint32_t i = 0; i < nq; ++i) {
    const VkQueueFlags f = queues[i].queueFlags;
    if ((f & VK_QUEUE_COMPUTE_BIT) && !(f & VK_QUEUE_GRAPHICS_BIT)) {
      family = static_cast<int>(i);
      break;
    }
  }
  for (std::uint32_t i = 0; i < nq && family < 0; ++i)
    if (queues[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = static_cast<int>(i);
  if (family < 0) return false;

  VkPhysicalDeviceSubgroupProperties subgroup{};
  subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
  VkPhysicalDeviceDriverProperties driver{};
  driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
  VkPhysicalDeviceProperties2 props2{};
  props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  props2.pNext = &subgroup;
  const bool has_driver_props = usable_version >= VK_API_VERSION_1_2;
  if (has_driver_props) subgroup.pNext = &driver;
  vkGetPhysicalDeviceProperties2(pd, &props2);

  VkPhysicalDeviceMemoryProperties mem{};
  vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  std::uint64_t local = 0;
  for (std::uint32_t i = 0; i < mem.memoryHeapCount; ++i)
    if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) local += mem.memoryHeaps[i].size;

  VkPhysicalDeviceMaintenance3Properties m3{};
  m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
  VkPhysicalDeviceProperties2 p3{};
  p3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  p3.pNext = &m3;
  vkGetPhysicalDeviceProperties2(pd, &p3);

  out.handle = pd;
  out.vendor_id = props.vendorID;
  out.device_id = props.deviceID;
  out.api_version = props.apiVersion;
  out.software = props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
  out.compute_queue_family = static_cast<std::uint32_t>(family);
  out.subgroup_size = subgroup.subgroupSize;
  const VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
  out.subgroup_arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                            (subgroup.supportedOperations & need) == need && subgroup.subgroupSize >= 4;
  out.max_storage_buffer_range = props.limits.maxStorageBufferRange;
  out.max_memory_allocation_size = m3.maxMemoryAllocationSize;
  out.max_workgroup_invocations = props.limits.maxComputeWorkGroupInvocations;
  out.max_workgroup_size_x = props.limits.maxComputeWorkGroupSize[0];
  for (int i = 0; i < 3; ++i) out.max_workgroup_count[i] = props.limits.maxComputeWorkGroupCount[i];
  out.max_push_constants_size = props.limits.maxPushConstantsSize;
  out.max_storage_buffers_per_stage = props.limits.maxPerStageDescriptorStorageBuffers;
  out.min_storage_buffer_offset_alignment = props.limits.minStorageBufferOffsetAlignment;
  out.device_local_bytes = local;
  out.timestamp_period_ns = props.limits.timestampPeriod;
  out.timestamps = queues[static_cast<std::size_t>(family)].timestampValidBits > 0 && props.limits.timestampPeriod > 0;

  // Integer dot products: core in Vulkan 1.3, else the KHR extension; either
  // way the feature bit must be on.
  {
    std::uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> exts(n);
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data());
    bool ext = false;
    for (const auto& e : exts) ext = ext || std::strcmp(e.extensionName, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME) == 0;
    const bool core = usable_version >= VK_API_VERSION_1_3;
    if (ext || core) {
      VkPhysicalDeviceShaderIntegerDotProductFeatures dot{};
      dot.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES;
      VkPhysicalDeviceFeatures2 f2{};
      f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
      f2.pNext = &dot;
      vkGetPhysicalDeviceFeatures2(pd, &f2);
      // Opt-in: 8-bit activations cost accuracy (see engine/README.md).
      const char* env = std::getenv("OSSDESK_VULKAN_INTEGER_DOT");
      out.integer_dot = dot.shaderIntegerDotProduct == VK_TRUE && env && std::string(env) == "1";
      out.integer_dot_extension = out.integer_dot && !core;
    }
  }

  out.info.backend = "vulkan";
  out.info.name = props.deviceName;
  out.info.type = type_name(props.deviceType);
  std::string drv;
  if (has_driver_props && driver.driverName[0]) {
    drv = driver.driverName;
    if (driver.driverInfo[0]) drv += std::string(" ") + driver.driverInfo;
  } else {
    drv = std::string(vendor_name(props.vendorID)) + " driver " + std::to_string(props.driverVersion);
  }
  out.info.driver = drv + ", Vulkan " + version_string(props.apiVersion) + ", " + vendor_name(props.vendorID) +
                    ", subgroup " + std::to_string(subgroup.subgroupSize) + (out.integer_dot ? ", int8 dot" : "");
  out.info.memory_bytes = local;
  return true;
}

}  // namespace

Instance::Instance() {
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "ossdesk";
  app.pEngineName = "ossdesk";
  // Loaders older than 1.1 would refuse any version past 1.0, and they cannot
  // run our shaders anyway; newer ones accept it whatever their own version.
  app.apiVersion = kInstanceApiVersion;
  VkInstanceCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ci.pApplicationInfo = &app;
  validation_.extend(ci);
  const VkResult r = vkCreateInstance(&ci, nullptr, &instance_);
  if (r != VK_SUCCESS)
    fail(ErrorKind::Unsupported, std::string("vulkan: no Vulkan 1.1 driver (vkCreateInstance: ") + result_name(r) + ")");
  try {
    validation_.attach(instance_);
  } catch (...) {
    vkDestroyInstance(instance_, nullptr);
    throw;
  }
}

Instance::~Instance() {
  if (!instance_) return;
  validation_.detach(instance_);
  vkDestroyInstance(instance_, nullptr);
}

std::vector<PhysicalDevice> Instance::devices(bool include_software) const {
  std::uint32_t n = 0;
  check(vkEnumeratePhysicalDevices(instance_, &n, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> handles(n);
  if (n) check(vkEnumeratePhysicalDevices(instance_, &n, handles.data()), "vkEnumeratePhysicalDevices");
  handles.resize(n);
  std::vector<std::pair<int, PhysicalDevice>> found;
  for (VkPhysicalDevice pd : handles) {
    PhysicalDevice d;
    if (!describe(pd, d)) continue;
    if (d.software && !include_software) continue;
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(pd, &props);
    found.emplace_back(type_rank(props.deviceType), std::move(d));
  }
  // Best first: device type, then the most device-local memory.
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return a.second.device_local_bytes > b.second.device_local_bytes;
  });
  std::vector<PhysicalDevice> out;
  for (auto& [rank, d] : found) {
    d.info.index = static_cast<int>(out.size());
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<DeviceInfo> list_devices(bool include_software, std::string* why_none) {
  try {
    Instance instance;
    std::vector<DeviceInfo> out;
    for (const PhysicalDevice& d : instance.devices(include_software)) out.push_back(d.info);
    if (out.empty() && why_none) {
      *why_none = include_software ? "no Vulkan 1.1 device with a compute queue"
                                   : "no Vulkan GPU (software devices such as lavapipe are not offered unless requested)";
      // Say so when the only devices are software ones.
      if (!include_software && !instance.devices(true).empty())
        *why_none = "only software Vulkan devices (lavapipe) found; they are offered only when requested";
    }
    return out;
  } catch (const Error& e) {
    if (why_none) *why_none = e.what();
    return {};
  }
}

PhysicalDevice select_device(const Instance& instance, const BackendOptions& options) {
  const std::vector<PhysicalDevice> devices = instance.devices(options.allow_software_devices);
  std::string names;
  for (const auto& d : devices) names += (names.empty() ? "" : ", ") + std::to_string(d.info.index) + ": " + d.info.name;
  if (devices.empty())
    fail(ErrorKind::Unsupported, options.allow_software_devices
                                     ? "vulkan: no Vulkan 1.1 device with a compute queue"
                                     : "vulkan: no Vulkan GPU (software devices are offered only when requested)");
  if (options.device_index >= 0) {
    if (options.device_index >= static_cast<int>(devices.size()))
      fail(ErrorKind::Unsupported, "vulkan: no device " + std::to_string(options.device_index) + " (devices: " + names + ")");
    return devices[static_cast<std::size_t>(options.device_index)];
  }
  if (!options.device_name.empty()) {
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return s;
    };
    const std::string want = lower(options.device_name);
    for (const auto& d : devices)
      if (lower(d.info.name).find(want) != std::string::npos) return d;
    fail(ErrorKind::Unsupported, "vulkan: no device matches '" + options.device_name + "' (devices: " + names + ")");
  }
  return devices.front();
}

Device::Device(std::shared_ptr<const Instance> instance, const PhysicalDevice& physical)
    : instance_(std::move(instance)), physical_(physical) {
  vkGetPhysicalDeviceMemoryProperties(physical_.handle, &memory_);
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo q{};
  q.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  q.queueFamilyIndex = physical_.compute_queue_family;
  q.queueCount = 1;
  q.pQueuePriorities = &priority;
  VkDeviceCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &q;
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot{};
  dot.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES;
  const char* dot_extension = VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME;
  if (physical_.integer_dot) {
    dot.shaderIntegerDotProduct = VK_TRUE;
    ci.pNext = &dot;
    if (physical_.integer_dot_extension) {
      ci.enabledExtensionCount = 1;
      ci.ppEnabledExtensionNames = &dot_extension;
    }
  }
  check(vkCreateDevice(physical_.handle, &ci, nullptr, &device_), "vkCreateDevice");
  vkGetDeviceQueue(device_, physical_.compute_queue_family, 0, &queue_);
}

Device::~Device() {
  if (device_) {
    vkDeviceWaitIdle(device_);
    vkDestroyDevice(device_, nullptr);
  }
}

std::uint32_t Device::memory_type(std::uint32_t type_bits, VkMemoryPropertyFlags required,
                                  VkMemoryPropertyFlags preferred) const {
  int fallback = -1;
  for (std::uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i))) continue;
    const VkMemoryPropertyFlags f = memory_.memoryTypes[i].propertyFlags;
    if ((f & required) != required) continue;
    if ((f & preferred) == preferred) return i;
    if (fallback < 0) fallback = static_cast<int>(i);
  }
  if (fallback < 0)
    fail(ErrorKind::Unsupported, "vulkan: " + physical_.info.name + " has no memory type with flags " +
                                     std::to_string(required));
  return static_cast<std::uint32_t>(fallback);
}

std::uint32_t Device::workgroup_size(std::uint32_t want) const {
  const std::uint32_t limit = std::min(physical_.max_workgroup_invocations, physical_.max_workgroup_size_x);
  std::uint32_t size = 1;
  while (size * 2 <= want && size * 2 <= limit) size *= 2;
  return size;
}

}  // namespace ossdesk::vk
