// The last workgroup of a dispatch to finish its share of some work does the
// step that needs all the shares (flash-decoding's fold, the split router's
// sum), so that step needs no dispatch, and no barrier, of its own. Include
// after declaring
//   layout(std430, binding = N) coherent buffer Arrivals { uint arrivals[]; };
// whose counts are zero before the dispatch; the last arrival sets its count
// back to zero, ready for the next one. The shares are written to `coherent`
// buffers, so the writes and reads of different workgroups bypass the
// SM-local caches.
shared bool arrival_last_s;

// Called by the whole workgroup, in uniform control flow, once its share is
// written: counts it in arrivals[slot] and tells whether it was the last of
// `expected`, in which case the other shares are visible to it. The result is
// uniform across the workgroup.
bool last_to_arrive(uint slot, uint expected) {
  memoryBarrierBuffer();
  barrier();  // every invocation's share is written before the count
  if (gl_LocalInvocationID.x == 0) {
    arrival_last_s = atomicAdd(arrivals[slot], 1u) == expected - 1u;
    if (arrival_last_s) arrivals[slot] = 0u;  // everyone has arrived
  }
  memoryBarrierShared();
  barrier();
  const bool last = arrival_last_s;
  if (last) memoryBarrierBuffer();
  return last;
}
