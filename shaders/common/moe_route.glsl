// The routing table moe_route.comp builds for the grouped (prefill) expert
// kernels, in one uint buffer:
//   [0]                      number of tiles
//   [4 + 3j .. 4 + 3j + 2]   tile j: expert, first entry, entries (<= TILE)
//   [entry_base + i]         entry i: an assignment t * k + slot, grouped by expert
// A tile is up to TILE assignments of one expert, so its weights are read once
// for all of them.
const uint ROUTE_TILES = 4u;
