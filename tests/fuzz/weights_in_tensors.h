// The property that makes a loaded model safe and right to run: every stored
// tensor lies inside the file's mapping, and each weight view a backend reads
// (a matrix, all of an expert stack's slices, MXFP4 scale rows, a strided
// vector) lies inside one stored tensor, so a binder that got a stride, an
// interleave or an expert count wrong is caught even where its reads stay
// inside the file. Checked by address because ASan does not watch mapped
// memory.
#pragma once

#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "model/config.h"
#include "model/tensor.h"
#include "model/weights.h"

namespace ossdesk::fuzz {

class WeightViewsCheck {
 public:
  WeightViewsCheck(std::vector<TensorView> tensors, const std::uint8_t* file, std::size_t size)
      : tensors_(std::move(tensors)) {
    const auto begin = address(file);
    for (const TensorView& t : tensors_) {
      const auto at = address(t.data);
      if (at < begin || at - begin > size || t.nbytes > size - (at - begin)) property_failed("a tensor lies outside the file");
    }
  }

  void check(const ModelConfig& config, const ModelWeights& w) const {
    matrix(w.embedding);
    matrix(w.unembedding);
    vector(w.final_norm);
    if (w.layers.size() != static_cast<std::size_t>(config.num_layers)) property_failed("weights for a different layer count");
    for (const LayerWeights& l : w.layers) {
      for (const MatrixView* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.router}) matrix(*m);
      for (const VectorView* v : {&l.attn_norm, &l.bq, &l.bk, &l.bv, &l.bo, &l.sinks, &l.mlp_norm, &l.router_bias})
        vector(*v);
      for (const ExpertMatricesView* e : {&l.gate, &l.up, &l.down}) {
        if (e->count != config.num_experts) property_failed("an expert stack with a different expert count");
        experts(*e);
      }
      for (const ExpertVectorsView* e : {&l.gate_bias, &l.up_bias, &l.down_bias}) {
        vector(e->first);
        const VectorView last = e->expert(config.num_experts - 1);
        span(e->first.data, last.data + vector_bytes(last));
      }
    }
  }

 private:
  static std::uintptr_t address(const std::uint8_t* p) { return reinterpret_cast<std::uintptr_t>(p); }

  // Bytes one row's weights take, scales apart (MXFP4_HF keeps them in rows of their own).
  static std::uint64_t weight_bytes(const MatrixView& m) {
    return m.format == WeightFormat::MXFP4_HF ? static_cast<std::uint64_t>(m.cols) / 2 : m.bytes_per_row();
  }
  static std::uint64_t vector_bytes(const VectorView& v) {
    return static_cast<std::uint64_t>(v.n - 1) * v.stride + (v.format == WeightFormat::F32 ? 4 : 2);
  }

  // [begin, end) must lie inside a single stored tensor.
  void span(const std::uint8_t* begin, const std::uint8_t* end) const {
    const auto b = address(begin), e = address(end);
    if (e < b) property_failed("a weight view runs backwards");
    for (const TensorView& t : tensors_)
      if (b >= address(t.data) && e <= address(t.data) + t.nbytes) return;
    property_failed("a weight view does not lie inside one stored tensor");
  }

  // Rows are evenly strided, so the first and the last bound the rest.
  void matrix(const MatrixView& m) const {
    if (m.rows <= 0) property_failed("a matrix without rows");
    span(m.row(0), m.row(m.rows - 1) + weight_bytes(m));
    if (m.format == WeightFormat::MXFP4_HF) span(m.row_scales(0), m.row_scales(m.rows - 1) + m.cols / 32);
  }

  void experts(const ExpertMatricesView& e) const {
    const MatrixView first = e.expert(0), last = e.expert(e.count - 1);
    span(first.row(0), last.row(last.rows - 1) + weight_bytes(last));
    if (first.format == WeightFormat::MXFP4_HF)
      span(first.row_scales(0), last.row_scales(last.rows - 1) + last.cols / 32);
  }

  void vector(const VectorView& v) const {
    if (v.n <= 0) property_failed("a vector without elements");
    span(v.data, v.data + vector_bytes(v));
  }

  std::vector<TensorView> tensors_;
};

}  // namespace ossdesk::fuzz
