#include "model/bind.h"

#include "ossdesk/error.h"

namespace ossdesk {

void expect_tensor(const TensorView& t, std::initializer_list<DType> dtypes, const std::vector<std::uint64_t>& shape) {
  bool ok = false;
  std::string names;
  for (DType d : dtypes) {
    ok |= d == t.dtype;
    names += (names.empty() ? "" : " or ") + std::string(dtype_name(d));
  }
  if (!ok)
    fail(ErrorKind::Unsupported, t.file + ": tensor '" + t.name + "': type " + dtype_name(t.dtype) + ", expected " + names);
  if (t.shape != shape)
    fail_input(t.file + ": tensor '" + t.name + "': shape " + shape_to_string(t.shape) + ", expected " + shape_to_string(shape));
}

WeightFormat plain_format(DType dtype) {
  switch (dtype) {
    case DType::F32: return WeightFormat::F32;
    case DType::F16: return WeightFormat::F16;
    case DType::BF16: return WeightFormat::BF16;
    case DType::Q8_0: return WeightFormat::Q8_0;
    case DType::MXFP4: return WeightFormat::MXFP4_GGML;
    default: fail(ErrorKind::Unsupported, std::string("tensor type ") + dtype_name(dtype) + " cannot hold weights");
  }
}

VectorView bind_vector(const TensorView& t, std::uint64_t n) {
  expect_tensor(t, {DType::F32, DType::F16, DType::BF16}, {n});
  VectorView v;
  v.format = plain_format(t.dtype);
  v.n = static_cast<std::int64_t>(n);
  v.data = t.data;
  v.stride = t.dtype == DType::F32 ? 4 : 2;
  return v;
}

MatrixView bind_matrix(const TensorView& t, std::uint64_t rows, std::uint64_t cols) {
  expect_tensor(t, {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::MXFP4}, {rows, cols});
  MatrixView m;
  m.format = plain_format(t.dtype);
  m.rows = static_cast<std::int64_t>(rows);
  m.cols = static_cast<std::int64_t>(cols);
  m.data = t.data;
  m.row_stride = m.bytes_per_row();
  return m;
}

}  // namespace ossdesk
