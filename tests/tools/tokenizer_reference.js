#!/usr/bin/env node
// Reference token ids for the tokenizer tests, from gpt-tokenizer's o200k_harmony
// encoder (an independent JavaScript implementation of tiktoken's encoding).
//
// Usage: node tokenizer_reference.js <npm_dir> <corpus.txt> <out.json> [tokenizer.json]
//
// Writes out.json:
//   records[i].plain    ids of corpus record i with special tokens read as text
//   records[i].special  ids of record i with every special token allowed
//   whole               ids of the whole corpus file (special tokens as text)
//   fuzz[i]             {text, piece_ends (UTF-8 byte offsets), ids}: random strings
//                       over unusual characters, split by the o200k regex itself
//   specials            the encoding's special-token table (text -> id)
// and, if asked, a Hugging Face style tokenizer.json built from the package's
// o200k_base.tiktoken with this script's own GPT-2 byte-to-unicode table.
//
// Records are separated by U+001E in the corpus file.
//
// U+FEFF: gpt-tokenizer turns token bytes into strings with TextDecoder, which
// drops a leading byte order mark, so the o200k tokens that start with EF BB BF
// (5574 "\uFEFF", 9251 "\uFEFFusing", ...) can never be produced and pairs starting
// with them get wrong ranks. tiktoken encodes them normally. The corpus therefore
// has no U+FEFF (this script refuses one), and for fuzz strings containing it only
// the pre-tokenizer pieces are compared ("ids" is null).
//
// Special tokens with every special allowed: gpt-tokenizer 3.4.0 looks for them
// with a sticky regex, so it only recognizes one at the very start of the text
// (or right after another); "a<|end|>" comes back as text. This script therefore
// finds the special tokens itself, tiktoken's way (leftmost occurrence, scanning
// on), and hands gpt-tokenizer each "<special>text" segment, which it handles
// correctly.
'use strict';
const fs = require('fs');
const path = require('path');

const [npmDir, corpusPath, outPath, hfJsonPath] = process.argv.slice(2);
if (!npmDir || !corpusPath || !outPath) {
  console.error('usage: tokenizer_reference.js <npm_dir> <corpus.txt> <out.json> [tokenizer.json]');
  process.exit(2);
}
const pkg = path.join(npmDir, 'node_modules', 'gpt-tokenizer');
const harmony = require(path.join(pkg, 'cjs', 'encoding', 'o200k_harmony.js'));
const { O200K_TOKEN_SPLIT_REGEX } = require(path.join(pkg, 'cjs', 'encodingParams', 'constants.js'));
const { O200KHarmony } = require(path.join(pkg, 'cjs', 'encodingParams', 'o200k_harmony.js'));

const specialTable = O200KHarmony([]).specialTokensEncoder;  // Map text -> id
const asText = { disallowedSpecial: new Set() };
const allSpecial = { allowedSpecial: 'all' };

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Longest first so that, where two could start at one place, the longer wins.
const specialFinder = new RegExp(
  [...specialTable.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');

function encodeWithSpecials(text) {
  const ids = [];
  let start = 0;
  let match;
  specialFinder.lastIndex = 0;
  let firstSpecial = specialFinder.exec(text);
  if (firstSpecial === null) return harmony.encode(text, asText);
  ids.push(...harmony.encode(text.slice(0, firstSpecial.index), asText));
  start = firstSpecial.index;
  // Each segment starts with a special token: gpt-tokenizer handles that one.
  while ((match = specialFinder.exec(text)) !== null) {
    ids.push(...harmony.encode(text.slice(start, match.index), allSpecial));
    start = match.index;
  }
  ids.push(...harmony.encode(text.slice(start), allSpecial));
  return ids;
}

// ---- fuzz strings for the pre-tokenizer ----
let seed = 0x5eed;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (items) => items[Math.floor(random() * items.length)];
// One or two characters from each class the pattern distinguishes, plus
// characters JavaScript's \s includes or excludes surprisingly.
const fuzzAlphabet = [
  'a', 'b', 'z', 'A', 'Q', 's', 'S', 't', 'T', 'd', 'D', 'm', 'M', 'l', 'L', 'v', 'V', 'e', 'E', 'r', 'R', "'", "'", "'",
  "'s", "'T", "'ll", "'lL", "'Ve", "'rE", "'D", "'m", "'l", "'v",
  'ß', 'é', 'É', 'Ω', 'ω', 'ж', 'Ж', 'ǅ', 'ᾈ', 'ʰ', 'ー', 'ª', 'º', 'あ', '中', 'ا', 'א', 'ก', '한', 'ǀ', 'ᵃ', 'Ꙁ',
  '\u0301', '\u0300', '\u0903', '\u093c', '\u20dd', '\ufe0f', '\u0e31', '\u05b8',
  '0', '5', '9', '²', '½', 'Ⅻ', 'ⅻ', '٣', '१', '①', '〇', '\u{1d7d8}', '\u{10107}',
  ' ', ' ', ' ', ' ', '\t', '\n', '\n', '\r', '\r\n', '\u000b', '\u000c', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028',
  '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u0085', '\u200b', '\u180e', '\u200d', '\u2060', '\u00ad', '\u001e',
  '/', '/', '.', ',', '!', '?', '-', '_', '<', '|', '>', '"', '#', '(', ')', '€', '©', '😀', '🏽', '🇺', '\u{e0067}', '\u{10ffff}',
];
function randomCodePoint() {
  for (;;) {
    const cp = Math.floor(random() * 0x110000);
    if (cp < 0xd800 || cp > 0xdfff) return String.fromCodePoint(cp);
  }
}
function fuzzString() {
  const length = 1 + Math.floor(random() * 40);
  let text = '';
  for (let i = 0; i < length; ++i) text += random() < 0.08 ? randomCodePoint() : pick(fuzzAlphabet);
  return text;
}
function pieceEnds(text) {
  const ends = [];
  let offset = 0;
  for (const [piece] of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) {
    offset += Buffer.byteLength(piece);
    ends.push(offset);
  }
  if (offset !== Buffer.byteLength(text)) throw new Error('the o200k regex left characters unmatched');
  return ends;
}

// ---- tokenizer.json ----
// GPT-2's table: printable bytes stand for themselves, the other 68 bytes take
// code points 256, 257, ... in byte order.
function byteToUnicodeTable() {
  const table = [];
  let shifted = 256;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table.push(String.fromCodePoint(printable ? b : shifted++));
  }
  return table;
}
function writeTokenizerJson(target) {
  const table = byteToUnicodeTable();
  const vocab = {};
  const lines = fs.readFileSync(path.join(pkg, 'data', 'o200k_base.tiktoken'), 'utf8').split('\n');
  for (const line of lines) {
    if (!line) continue;
    const [b64, rank] = line.split(' ');
    const bytes = Buffer.from(b64, 'base64');
    vocab[[...bytes].map((b) => table[b]).join('')] = Number(rank);
  }
  // The model's tokenizer.json names 200018 <|endofprompt|>, like the decoder here.
  const byId = new Map();
  for (const [text, id] of specialTable) if (!byId.has(id) || text === '<|endofprompt|>') byId.set(id, text);
  const added = [...byId].sort((a, b) => a[0] - b[0]).map(([id, content]) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const json = {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    model: { type: 'BPE', dropout: null, unk_token: null, byte_fallback: false, vocab, merges: [] },
  };
  fs.writeFileSync(target, JSON.stringify(json));
}

const corpus = fs.readFileSync(corpusPath, 'utf8');
if (corpus.includes('\ufeff')) throw new Error('the corpus contains U+FEFF, which gpt-tokenizer cannot encode');
const records = corpus.split('\u001e').map((text) => ({ plain: harmony.encode(text, asText), special: encodeWithSpecials(text) }));
const fuzz = [];
for (let i = 0; i < 4000; ++i) {
  const text = fuzzString();
  fuzz.push({ text, piece_ends: pieceEnds(text), ids: text.includes('\ufeff') ? null : harmony.encode(text, asText) });
}
const result = {
  node: process.version,
  unicode: process.versions.unicode,
  records,
  whole: harmony.encode(corpus, asText),
  fuzz,
  specials: Object.fromEntries(specialTable),
};
fs.writeFileSync(outPath, JSON.stringify(result));
if (hfJsonPath) writeTokenizerJson(hfJsonPath);
console.log(`reference: ${records.length} records, ${fuzz.length} fuzz strings (node ${process.version}, Unicode ${process.versions.unicode})`);
