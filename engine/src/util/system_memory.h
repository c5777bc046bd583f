// What the operating system says about memory: how much a process could still
// take, and how much of a mapped range sits in RAM. Both answer nullopt where
// the OS does not tell (then callers must not guess in the risky direction).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace ossdesk {

// Memory available to a new allocation without swapping: MemAvailable on
// Linux (free memory plus page cache the kernel can drop), the available
// physical memory on Windows.
std::optional<std::uint64_t> available_memory_bytes();

// Bytes of the pages under `range` that are in RAM (mincore), counted for the
// part of each page inside the range. Linux (5.2 and later) reports the page
// cache only for files the caller owns or may write; for others it counts the
// pages this process has mapped, so it may answer low, never high.
std::optional<std::uint64_t> resident_bytes(std::span<const std::uint8_t> range);

}  // namespace ossdesk
