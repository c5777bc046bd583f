#!/usr/bin/env node
// Writes tests/data/tokenizer/corpus.txt, the text the tokenizer tests encode with
// both our tokenizer and the reference (gpt-tokenizer). Run once; the output is
// committed so the tests do not depend on this script's randomness.
//
// The corpus is a sequence of records separated by U+001E (RECORD SEPARATOR). Each
// record is built by one of the generators below, picked by a seeded PRNG, so the
// same seed always gives the same bytes. It aims at the pre-tokenizer's corners:
// many scripts, letter case changes, marks, numbers of every length, emoji
// sequences, white-space runs, contractions, source code, special-token text.
//
// Usage: node make_tokenizer_corpus.js [output] [min_bytes]
'use strict';
const fs = require('fs');
const path = require('path');

const RECORD_SEPARATOR = '\u001e';
const output = process.argv[2] || path.join(__dirname, '..', 'data', 'tokenizer', 'corpus.txt');
const minBytes = Number(process.argv[3] || 1.2 * 1024 * 1024);

// mulberry32: small, seedable, good enough to pick generators and lengths.
let seed = 0x0ddba11;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (items) => items[Math.floor(random() * items.length)];
const repeat = (n, f) => Array.from({ length: n }, f);

// ---- prose in many scripts (written for this corpus) ----
const prose = {
  english: [
    'The quick brown fox jumps over the lazy dog while the kettle boils.',
    "It's not the size of the model that matters, it's how you run it.",
    'Tokenizers split text into pieces; each piece is then merged byte by byte.',
    'On Tuesday, 14 March 2023, the committee met at 9:30 a.m. in Room 101B.',
    'She said: "We\'ll ship it when it\'s ready — not a day sooner."',
    'HTTP/1.1 200 OK was followed by a JSON body of about 3.5 KB.',
  ],
  french: [
    "L'été dernier, nous sommes allés à la mer près de Saint-Malo.",
    'Où est la bibliothèque ? Elle se trouve derrière la cathédrale.',
    "Ça m'étonnerait qu'il réussisse l'examen sans réviser.",
    'Les élèves ont étudié les œuvres de Molière et de Racine.',
  ],
  german: [
    'Die Straße war nass, und die Fußgänger trugen Regenschirme.',
    'Größere Übersetzungsprojekte benötigen häufig zusätzliche Prüfungen.',
    'Donaudampfschifffahrtsgesellschaftskapitän ist ein langes Wort.',
    'ÄRGER ÜBER ÖFFNUNGSZEITEN führt zu Beschwerden.',
  ],
  spanish: [
    '¿Dónde está el baño? ¡Necesito lavarme las manos ahora mismo!',
    'El niño comió una piña y después jugó al fútbol con sus amigos.',
    'La programación requiere paciencia, práctica y mucha curiosidad.',
  ],
  portuguese: [
    'A inteligência artificial está mudando a forma como trabalhamos.',
    'Não há nada mais bonito do que o pôr do sol em Lisboa.',
  ],
  polish_czech: [
    'Zażółć gęślą jaźń — to zdanie zawiera wszystkie polskie litery.',
    'Příliš žluťoučký kůň úpěl ďábelské ódy.',
    'Łódź i Wrocław to duże miasta w Polsce.',
  ],
  vietnamese: [
    'Tiếng Việt có rất nhiều dấu thanh và dấu phụ.',
    'Chúng tôi đã đến Hà Nội vào mùa thu năm ngoái.',
  ],
  turkish: [
    'İstanbul’da ılık bir sonbahar günüydü; ağaçlar sararmıştı.',
    'IĞDIR ŞEHRİ ÇOK GÜZEL, ÖZELLİKLE İLKBAHARDA.',
  ],
  russian: [
    'Съешь же ещё этих мягких французских булок, да выпей чаю.',
    'Программа успешно обработала 1 024 запроса за 3,7 секунды.',
    'МОСКВА — СТОЛИЦА РОССИИ. Москва-река течёт через город.',
  ],
  ukrainian: [
    'Їжачок ґречно перепросив і пішов додому через поле.',
    'Україна має багату історію та культуру.',
  ],
  greek: [
    'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.',
    'Η γλώσσα μου έδωσαν ελληνική· το σπίτι φτωχικό στις αμμουδιές του Ομήρου.',
    'ΑΘΗΝΑ ΚΑΙ ΘΕΣΣΑΛΟΝΙΚΗ είναι οι μεγαλύτερες πόλεις.',
  ],
  arabic: [
    'مرحبا بالعالم! كيف حالك اليوم؟',
    'اللغة العربية تكتب من اليمين إلى اليسار.',
    'مَرْحَبًا يَا صَدِيقِي، كَيْفَ حَالُكَ؟',
    'في عام ٢٠٢٤ وصل عدد المستخدمين إلى ١٥٠ مليون.',
  ],
  persian: ['زبان فارسی یکی از زبان‌های هندواروپایی است.', 'امروز هوا خیلی خوب است.'],
  hebrew: [
    'שלום עולם! מה שלומך היום?',
    'שָׁלוֹם וּבְרָכָה לְכָל הַחֲבֵרִים.',
    'העברית נכתבת מימין לשמאל.',
  ],
  hindi: [
    'नमस्ते दुनिया! आप कैसे हैं?',
    'भारत एक विशाल देश है जिसमें अनेक भाषाएँ बोली जाती हैं।',
    'क्षत्रिय और ज्ञान जैसे शब्दों में संयुक्ताक्षर होते हैं।',
    'वर्ष २०२४ में १२३ नए विद्यालय खुले।',
  ],
  bengali: ['আমি বাংলায় গান গাই।', 'বাংলাদেশের রাজধানী ঢাকা।'],
  tamil: ['தமிழ் ஒரு பழமையான மொழி.', 'வணக்கம், எப்படி இருக்கிறீர்கள்?'],
  thai: [
    'สวัสดีครับ วันนี้อากาศดีมาก',
    'ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ กำลังเรียนรู้อยู่',
    'ผู้ใหญ่หาผ้าใหม่ให้สะใภ้ใช้คล่องคอ',
  ],
  chinese: [
    '我能吞下玻璃而不伤身体。',
    '今天天气很好，我们去公园散步吧！',
    '機器學習是人工智慧的一個分支。',
    '这个模型有二百亿个参数，运行在本地电脑上。',
  ],
  japanese: [
    '私はガラスを食べられます。それは私を傷つけません。',
    'カタカナとひらがなと漢字が混ざった文章です。',
    'ＡＩモデルは１２３４５個のトークンを処理しました。',
    'ラーメン、すし、てんぷら――どれも美味しい！',
  ],
  korean: [
    '나는 유리를 먹을 수 있어요. 그래도 아프지 않아요.',
    '한국어는 한글로 씁니다. 세종대왕이 만들었습니다.',
    '서울특별시 강남구 테헤란로 123번길',
  ],
  georgian_armenian: ['ქართული ენა ძალიან ლამაზია.', 'Հայերենը հնագույն լեզու է։'],
  amharic: ['ሰላም ለዓለም። እንዴት ነህ?'],
  mongolian_tibetan: ['ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ', 'བོད་སྐད་ནི་སྐད་ཡིག་ཅིག་ཡིན།'],
  casing: [
    'camelCaseIdentifier PascalCaseName snake_case_name SCREAMING_SNAKE_CASE kebab-case-name',
    'XMLHttpRequest getHTTPResponseCode parseJSONString IOError URLs APIs GPUs',
    'McDonald O\'Brien DiCaprio iPhone eBay macOS LaTeX NaN',
    'ǅemal ǈubljana ǋegoš ᾈδης — titlecase letters in the middle of Words',
    'ʰaʲbʷcˠ ˢuperscript-like modifier letters and ーー long vowel marks',
  ],
};
const proseLanguages = Object.keys(prose);

// ---- source code ----
const code = [
  `#include <vector>\n\nint main(int argc, char** argv) {\n    std::vector<int> values{1, 2, 3};\n    for (auto v : values) {\n        if (v % 2 == 0) return v;\n    }\n    return 0;\n}\n`,
  `def fibonacci(n: int) -> list[int]:\n    """Return the first n Fibonacci numbers."""\n    a, b = 0, 1\n    out = []\n    for _ in range(n):\n        out.append(a)\n        a, b = b, a + b\n    return out\n\nprint(fibonacci(10))  # [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]\n`,
  `const fetchUser = async (id) => {\n\tconst res = await fetch(\`/api/users/\${id}?expand=roles&limit=50\`);\n\tif (!res.ok) throw new Error(\`HTTP \${res.status}\`);\n\treturn res.json();\n};\n`,
  `fn main() {\n    let words: Vec<&str> = "a b c".split_whitespace().collect();\n    println!("{:?} {}", words, words.len());\n    let x = 0xFF_u8 as i32 + 1_000_000;\n}\n`,
  `package main\n\nimport "fmt"\n\nfunc main() {\n\tm := map[string]int{"one": 1, "two": 2}\n\tfor k, v := range m {\n\t\tfmt.Printf("%s=%d\\n", k, v)\n\t}\n}\n`,
  `SELECT u.id, u.name, COUNT(o.id) AS order_count\nFROM users u\nLEFT JOIN orders o ON o.user_id = u.id\nWHERE u.created_at >= '2024-01-01'\nGROUP BY u.id, u.name\nHAVING COUNT(o.id) > 5\nORDER BY order_count DESC;\n`,
  `<!DOCTYPE html>\r\n<html lang="en">\r\n<head><meta charset="utf-8"><title>Test &amp; page</title></head>\r\n<body>\r\n  <p class="note">Hello, <b>world</b>!</p>\r\n</body>\r\n</html>\r\n`,
  `{\n  "name": "ossdesk",\n  "version": "0.1.0",\n  "tags": ["llm", "local", "chat"],\n  "limits": {"context": 131072, "temperature": 0.7, "top_p": 1e-3},\n  "enabled": true,\n  "nothing": null\n}\n`,
  `#!/usr/bin/env bash\nset -euo pipefail\nfor f in ./*.txt; do\n  wc -l "$f" | awk '{print $1}' >> /tmp/counts.log 2>&1\ndone\n[[ -n "\${HOME:-}" ]] && echo "home=$HOME" || exit 1\n`,
  `// C with tabs\r\nstatic inline uint32_t rotl(uint32_t x, int k) {\r\n\treturn (x << k) | (x >> (32 - k));\r\n}\r\n`,
  `    # indented with spaces\n        nested = {'key': [1, 2, {'deep': (3, 4)}]}\n                    # very deep comment\n`,
  `/* regex */ const re = /^(?:[a-z0-9!#$%&'*+/=?^_\`{|}~-]+)@example\\.com$/i;\n// URL: https://example.com/path/to/file.tar.gz?x=1&y=%20#frag\n`,
  `matrix = [[1.0, -2.5e-3, 3.14159265358979],\n          [0.0,  1e10,   -0.000001]]\n`,
];

// ---- generators, one record each ----
function proseRecord() {
  const lang = pick(proseLanguages);
  const n = int(1, 6);
  const parts = repeat(n, () => pick(prose[lang]));
  const sep = pick([' ', ' ', '\n', '\n\n', '  ', '\r\n', '\t']);
  return parts.join(sep);
}

function mixedProseRecord() {
  return repeat(int(2, 8), () => pick(prose[pick(proseLanguages)])).join(pick([' ', '\n', ' | ', '']));
}

function codeRecord() {
  let text = pick(code);
  if (random() < 0.3) text = text.replace(/\n/g, '\r\n');
  if (random() < 0.2) text = text.replace(/ {4}/g, '\t');
  return text;
}

function digits(n) {
  let s = String(int(1, 9));
  while (s.length < n) s += String(int(0, 9));
  return s;
}

function numberRecord() {
  const forms = [
    () => digits(int(1, 60)),
    () => `${digits(int(1, 3))},${digits(3)},${digits(3)}.${digits(int(1, 4))}`,
    () => `-${int(0, 9)}.${digits(int(1, 12))}e-${int(1, 300)}`,
    () => `${int(1990, 2030)}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}T${int(10, 23)}:${int(10, 59)}:${int(10, 59)}Z`,
    () => `0x${int(0, 0xffffffff).toString(16).toUpperCase()}`,
    () => `v${int(0, 20)}.${int(0, 99)}.${int(0, 999)}-rc${int(1, 9)}`,
    () => `+1 (${digits(3)}) ${digits(3)}-${digits(4)}`,
    () => `${digits(int(1, 7))}${pick(['abc', 'px', 'GB', 'ms', 'km/h', '%', '€', '$', 'th'])}`,
    () => pick(['１２３４５６７', '١٢٣٤٥٦٧٨٩٠', '१२३४५६७८९०', '০১২৩৪৫', '๑๒๓๔๕', '一二三四五', '²³¹⁴', '½¾⅓⅞', 'ⅠⅡⅢⅣⅫ', '①②③④', '𝟙𝟚𝟛', '٣.١٤']),
    () => `${pick(['x', 'H', 'CO', 'm', 'ab'])}${digits(int(1, 5))}${pick(['', 'y', 'Z', 'é'])}`,
    () => repeat(int(2, 8), () => digits(int(1, 4))).join(pick(['.', ':', '/', ' ', '', '-', '_'])),
  ];
  return repeat(int(3, 20), () => pick(forms)()).join(pick([' ', ', ', '\n', '; ', '', '\t']));
}

const emoji = [
  '😀', '😂', '🥲', '🤖', '🚀', '🔥', '✅', '❌', '⭐', '☕', '🍣', '🐍', '🦀', '💡', '🎉', '📦',
  '👍🏻', '👍🏼', '👍🏽', '👍🏾', '👍🏿', '👋🏽', '🤝🏾',
  '👨‍👩‍👧‍👦', '👩‍💻', '🧑🏽‍💻', '👨🏿‍🚀', '🏳️‍🌈', '🏳️‍⚧️', '❤️‍🔥', '😶‍🌫️', '🐻‍❄️', '👁️‍🗨️',
  '🇺🇸', '🇫🇷', '🇯🇵', '🇩🇪', '🇧🇷', '🇮🇳', '🇺🇦', '🇪🇺', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '🏴󠁧󠁢󠁷󠁬󠁳󠁿',
  '1️⃣', '#️⃣', '*️⃣', '©️', '®️', '™️', '↔️', '☺️', '✌🏻',
];
function emojiRecord() {
  const glue = ['', ' ', '', '\n', 'x', 'Hello', '123', '!', ' and ', '  '];
  return repeat(int(3, 25), () => pick(emoji) + pick(glue)).join(pick(['', ' ']));
}

function whitespaceRecord() {
  const blanks = [
    () => ' '.repeat(int(1, 70)),
    () => '\t'.repeat(int(1, 8)),
    () => '\r\n'.repeat(int(1, 4)),
    () => '\n'.repeat(int(1, 6)),
    () => repeat(int(2, 12), () => pick([' ', '\t', '\n', '\r\n', '\r', '\u00a0', '\u3000', '\u2003', '\u000b', '\u000c'])).join(''),
    () => ' \n ',
    () => '\n ',
    () => ' \t\n\t ',
    () => '\u00a0\u00a0',
    () => '\u2028',
  ];
  const words = ['word', 'Word', 'x', '42', '!', '(', '...', 'élan', 'мир', '中文', '😀', "'s", '/', '-', '#'];
  let text = pick([() => '', () => pick(blanks)()])();
  for (let i = int(4, 30); i > 0; --i) text += pick(words) + pick(blanks)();
  return text;
}

const contractionWords = ['it', 'IT', 'He', 'she', 'They', 'WE', 'you', 'I', 'x', 'O', 'Ⅻ', 'ÉTÉ', 'naïve', 'Łódź', 'Ωμέγα', 'КОТ', '42', 'a_b', '🙂'];
const suffixes = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'Ve", "'m", "'M", "'ll", "'LL", "'Ll", "'lL", "'d", "'D",
  "'", "''", "'x", "'ss", "'lll", "'l", "'v", "'r", "’s", "’LL", "'sa", "'Sa", "'d'd", "'re'", "'S'"];
function contractionRecord() {
  const sep = () => pick([' ', ' ', '\n', ', ', '', '-']);
  let text = '';
  for (let i = int(5, 30); i > 0; --i) text += pick(contractionWords) + pick(suffixes) + sep();
  return text + pick(["DON'T STOP", "We'LL see", "rock'n'roll", "O'Neil's", "y'all'd've", "'tis", "'S'S'S", ''].concat([]));
}

const specialTexts = ['<|start|>', '<|end|>', '<|message|>', '<|channel|>', '<|return|>', '<|call|>', '<|constrain|>',
  '<|startoftext|>', '<|endoftext|>', '<|endofprompt|>', '<|reserved_200018|>', '<|reserved_200000|>', '<|reserved_201087|>',
  '<|reserved_200013|>'];
const nearSpecials = ['<|start', 'start|>', '<|end|', '|>', '<|', '<||>', '<|START|>', '<| end |>', '<<|end|>>', '<|reserved_201088|>',
  '<|reserved_199999|>', '<|reserved_2000|>', '<|im_start|>', '<|fim_prefix|>', '<|<|message|>|>', '<|endoftext', '<|end|>|>'];
function specialRecord() {
  if (random() < 0.4) {
    // A harmony conversation as it would be rendered.
    const user = pick(prose[pick(proseLanguages)]);
    const answer = pick(prose[pick(proseLanguages)]);
    return `<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n\nReasoning: ${pick(['low', 'medium', 'high'])}\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>` +
      `<|start|>user<|message|>${user}<|end|><|start|>assistant<|channel|>analysis<|message|>The user wrote: ${user}<|end|>` +
      `<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"location":"San Francisco"}<|call|>` +
      `<|start|>assistant<|channel|>final<|message|>${answer}<|return|>`;
  }
  const pieces = [...specialTexts, ...nearSpecials, 'text', ' ', 'x', 'User', '\n', 'é', '中', '42', '!', '😀', ' word', '<', '>', '|'];
  return repeat(int(5, 30), () => pick(pieces)).join('');
}

const marks = ['\u0301', '\u0300', '\u0308', '\u0327', '\u0303', '\u0336', '\u0352', '\u035d', '\u20dd', '\ufe0f', '\u0903', '\u093c', '\u0e31', '\u05b8', '\u064b'];
function combiningRecord() {
  const bases = ['e', 'a', 'O', 'Z', 'n', 'ก', 'क', 'ש', 'ب', '1', ' ', '!', 'x', 'Ä'];
  let text = '';
  for (let i = int(5, 40); i > 0; --i) {
    text += pick(bases);
    for (let k = int(0, 4); k > 0; --k) text += pick(marks);
    if (random() < 0.3) text += pick([' ', '', '\n', '.']);
  }
  return text + pick(['', ' e\u0301te\u0301', ' \u1100\u1161\u11a8\u1102\u1161', ' Z̴̡̙̈́a̶̧͎͊l̷̛̲g̸̣̓o̵̰͝', ' ệ ệ', ' ñ n\u0303']);
}

// Unusual letters, numbers and spaces the reference's regex classes must agree on.
// No U+FEFF: gpt-tokenizer cannot encode it (see tokenizer_reference.js).
const chaosAlphabet = [
  'a', 'Z', 's', 'S', 't', 'l', 'L', 'v', 'E', 'r', 'd', 'm', "'", ' ', ' ', '\t', '\n', '\r', '/', '.', '!', '<', '|', '>', '-',
  '0', '7', '²', '½', 'Ⅻ', '٣', '①', 'É', 'é', 'Ω', 'ω', 'Ж', 'ж', 'ǅ', 'ᾈ', 'ʰ', 'ー', 'ª', 'あ', '中', 'ا', 'א', 'ก', '한',
  '\u0301', '\u0903', '\u20dd', '\ufe0f', '\u200d', '\u200b', '\u00a0', '\u3000', '\u2028', '\u2029', '\u0085', '\u000b',
  '\u000c', '\u1680', '\u202f', '😀', '🏽', '🇺', '€', '©', '\u00ad', '\u2060', '\u{1d400}', '\u{1d7d8}', '\u{10400}',
  '\u{10428}', '\u{20000}', '\u{e0067}', 'ß', 'ŉ', 'İ', 'ı', 'ǰ', 'ﬁ', 'ＡＢ', 'ｂ',
];
function chaosRecord() {
  return repeat(int(10, 120), () => pick(chaosAlphabet)).join('');
}

function longRunRecord() {
  // Long single-class pieces exercise the n log n merge path.
  return pick([
    () => ' '.repeat(int(200, 3000)) + 'x',
    () => 'a'.repeat(int(200, 2000)),
    () => 'ab'.repeat(int(100, 1000)),
    () => '='.repeat(int(200, 2000)) + '\n',
    () => '-_'.repeat(int(100, 800)),
    () => 'Base64: ' + Buffer.from(repeat(int(300, 1500), () => int(0, 255))).toString('base64'),
    () => 'あ'.repeat(int(100, 600)),
    () => '\n'.repeat(int(100, 500)),
    () => '😀'.repeat(int(50, 400)),
  ])();
}

const generators = [
  [proseRecord, 30], [mixedProseRecord, 10], [codeRecord, 10], [numberRecord, 10], [emojiRecord, 7],
  [whitespaceRecord, 8], [contractionRecord, 8], [specialRecord, 8], [combiningRecord, 5], [chaosRecord, 6],
  [longRunRecord, 1],
];
const totalWeight = generators.reduce((sum, [, w]) => sum + w, 0);
function pickGenerator() {
  let r = random() * totalWeight;
  for (const [g, w] of generators) {
    if ((r -= w) < 0) return g;
  }
  return generators[0][0];
}

const records = [];
let bytes = 0;
while (bytes < minBytes) {
  const record = pickGenerator()();
  records.push(record);
  bytes += Buffer.byteLength(record) + 1;
}
fs.mkdirSync(path.dirname(output), { recursive: true });
fs.writeFileSync(output, records.join(RECORD_SEPARATOR));
console.log(`wrote ${records.length} records, ${Buffer.byteLength(records.join(RECORD_SEPARATOR))} bytes to ${output}`);
