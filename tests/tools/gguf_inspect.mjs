// Prints what the third-party parser @huggingface/gguf reads from a GGUF file,
// as JSON: tensors (name, ggml type, shape in ggml ne order) and metadata
// (scalars as values, arrays as their length). Used to check our writer.
// usage: node gguf_inspect.mjs NPM_DIR FILE.gguf
import { pathToFileURL } from "node:url";
import path from "node:path";

const [npmDir, file] = process.argv.slice(2);
const mod = await import(pathToFileURL(path.join(npmDir, "node_modules/@huggingface/gguf/dist/index.mjs")).href);
const result = await mod.gguf(file, { allowLocalFile: true });
const metadata = {};
for (const [key, value] of Object.entries(result.metadata)) {
  if (Array.isArray(value)) metadata[key] = { array_length: value.length, first: value.length ? String(value[0]) : null };
  else metadata[key] = typeof value === "bigint" ? Number(value) : value;
}
const tensors = result.tensorInfos.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape.map(Number) }));
process.stdout.write(JSON.stringify({ metadata, tensors, tensorDataOffset: Number(result.tensorDataOffset) }));
