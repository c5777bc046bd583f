// Packed 4 x int8 dot product: sum of the products of the four signed bytes of
// a and b, as a 32-bit integer (SPIR-V OpSDot with PackedVectorFormat4x8Bit,
// SPV_KHR_integer_dot_product). The glslang this project builds with predates
// GL_EXT_integer_dot_product, so the instruction is declared through
// GL_EXT_spirv_intrinsics (capabilities DotProduct = 6019 and
// DotProductInput4x8BitPacked = 6018, opcode 4450). Only modules whose
// pipelines the host creates on devices with the integer dot product feature
// may include this.
#extension GL_EXT_spirv_intrinsics : require

spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int dot_packed_int8(uint a, uint b, spirv_literal int packed_vector_format);

int dot4x8(uint a, uint b) { return dot_packed_int8(a, b, 0); }
