// The host's memory read bandwidth, measured: what `bench` puts CPU decode
// against when no --peak-gbps is given (a CPU has no driver that reports a
// peak, and few users know their RAM's).
#pragma once

namespace ossdesk::cli {

// GB/s that `threads` threads reach summing a buffer far larger than any
// cache: the best of a few passes over 256 MiB. Takes about a quarter of a
// second, most of it faulting the buffer in.
double measure_host_read_gbps(unsigned threads);

}  // namespace ossdesk::cli
