#!/usr/bin/env python3
"""Reference fixtures for Nanoscope's byte-level BPE tokenizer (Sources/Tokenizers/BPETokenizer.swift).

The Swift tokenizer must agree with Karpathy's minbpe `RegexTokenizer`, which cannot be installed
here, so this script carries a small, deliberately naive re-implementation of minbpe's algorithm
(written from its description: recount every pair each round, take the first most-frequent pair in
order of first sighting, merge it everywhere) and uses the `regex` module -- the same engine minbpe
uses -- for the pre-split. The Swift tests read what it writes:

    Tests/TokenizersTests/Fixtures/presplit.json         pieces of tricky strings, both patterns
    Tests/TokenizersTests/Fixtures/unicode_classes.json  \\s, \\p{L}, \\p{N} as code-point ranges
    Tests/TokenizersTests/Fixtures/bpe_reference.json    merges, encodings, .model and .vocab text
    Tests/TokenizersTests/Fixtures/utf8_replacement.json invalid UTF-8 and Python's U+FFFD rendering

Usage:
    python3 Scripts/make_bpe_fixtures.py                 # (re)write the fixtures
    python3 Scripts/make_bpe_fixtures.py --time-train FILE --vocab-size 1024 [--merges-out OUT.json]
        # time this naive trainer on a corpus (for comparison with `nanoscope tokenizer train`)

Requires python3 and the `regex` package. Output is deterministic.
"""
import argparse
import json
import os
import random
import sys
import time
import unicodedata

import regex

GPT4_PATTERN = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
PATTERNS = {"gpt4": GPT4_PATTERN, "gpt2": GPT2_PATTERN}

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TokenizersTests", "Fixtures")


# --------------------------------------------------------------------------- minbpe's algorithm

def get_stats(ids, counts):
    # dict insertion order records the order in which pairs are first seen; max() below relies on it
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids, pair, idx):
    out, i = [], 0
    while i < len(ids):
        if i < len(ids) - 1 and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class ReferenceBPE:
    def __init__(self, pattern_name="gpt4"):
        self.pattern = PATTERNS[pattern_name]
        self.compiled = regex.compile(self.pattern)
        self.merges = {}  # (a, b) -> idx, in insertion (= merge) order
        self.special = {}  # str -> idx, in registration order
        self.vocab = {i: bytes([i]) for i in range(256)}

    def train(self, text, vocab_size):
        assert vocab_size >= 256
        chunks = [list(c.encode("utf-8")) for c in self.compiled.findall(text)]
        for i in range(vocab_size - 256):
            stats = {}
            for c in chunks:
                get_stats(c, stats)
            pair = max(stats, key=stats.get)  # first maximum in order of first sighting
            idx = 256 + i
            chunks = [merge(c, pair, idx) for c in chunks]
            self.merges[pair] = idx
            self.vocab[idx] = self.vocab[pair[0]] + self.vocab[pair[1]]

    def register_special_tokens(self, special):
        self.special = dict(special)

    def full_vocab(self):
        v = dict(self.vocab)
        for s, i in self.special.items():
            v[i] = s.encode("utf-8")
        return v

    def decode(self, ids):
        inverse = {i: s for s, i in self.special.items()}
        data = b"".join(self.vocab[i] if i in self.vocab else inverse[i].encode("utf-8") for i in ids)
        return data.decode("utf-8", errors="replace")

    def _encode_chunk(self, data):
        ids = list(data)
        while len(ids) >= 2:
            stats = get_stats(ids, {})
            pair = min(stats, key=lambda p: self.merges.get(p, float("inf")))
            if pair not in self.merges:
                break
            ids = merge(ids, pair, self.merges[pair])
        return ids

    def encode_ordinary(self, text):
        out = []
        for chunk in self.compiled.findall(text):
            out.extend(self._encode_chunk(chunk.encode("utf-8")))
        return out

    def encode(self, text, allowed_special="none_raise"):
        if allowed_special == "all":
            special = self.special
        elif allowed_special in ("none", "none_raise"):
            special = {}
            if allowed_special == "none_raise" and any(s in text for s in self.special):
                raise ValueError("special token in text")
        else:
            special = {k: v for k, v in self.special.items() if k in allowed_special}
        if not special:
            return self.encode_ordinary(text)
        pattern = "(" + "|".join(regex.escape(k) for k in special) + ")"
        out = []
        for part in regex.split(pattern, text):
            if part in special:
                out.append(special[part])
            else:
                out.extend(self.encode_ordinary(part))
        return out

    def model_text(self):
        lines = ["minbpe v1", self.pattern, str(len(self.special))]
        lines += [f"{s} {i}" for s, i in self.special.items()]
        lines += [f"{a} {b}" for a, b in self.merges]
        return "".join(line + "\n" for line in lines)

    def vocab_text(self):
        def render(token):
            s = token.decode("utf-8", errors="replace")
            return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch)[0] == "C" else ch for ch in s)

        parents = {i: p for p, i in self.merges.items()}
        vocab = self.full_vocab()
        lines = []
        for idx, token in vocab.items():
            if idx in parents:
                a, b = parents[idx]
                lines.append(f"[{render(vocab[a])}][{render(vocab[b])}] -> [{render(token)}] {idx}\n")
            else:
                lines.append(f"[{render(token)}] {idx}\n")
        return "".join(lines)


# --------------------------------------------------------------------------- inputs

# Hand-written strings aimed at each alternative of the two patterns and at their boundaries.
TRICKY = [
    "", "a", " ", "  ", "\n", "\r\n", "\r\n\r\n", " \n", "\n ", "\t\t", " \t \n \t x",
    "Hello world", "Hello  world", "Hello   world  ", "  leading", "trailing  ", "a\nb", "a\r\nb",
    "a \r\n b", "x  \n\n  y", "word\n\n\nword", "line one\r\n  line two\r\n",
    "it's", "It'S", "they'll", "THEY'LL", "we've", "We'Ve", "you're", "I'd", "I'm", "don't",
    "'s", "''s", "'x", "'hello", "' hello", "rock'n'roll", "l'ſ", "ſ'ſ", "cat's'", "'ll've're",
    "12", "123", "1234", "1234567", "3.14159", "$1,000,000.00", "v2.0-beta", "x1y22z333",
    "...", "!!!hello", "hello!!!", "a -- b", " ->", " -> \n", "(a)[b]{c}", "#!/bin/sh\n",
    "?!\n\n", " ?!\r\n", "foo()\r\n\r\n", "<|endoftext|>", "user@example.com",
    "café", "naïve", "e\u0301", " e\u0301e\u0301", "\u0301start", "Ångström", "Straße STRASSE",
    "日本語のテキスト", "中文，标点。", "한국어 문장", "Привет, мир!", "مرحبا بالعالم", "नमस्ते दुनिया",
    "🙂", "🙂🙂", " 🙂 x", "👍🏽", "👨‍👩‍👧‍👦 family", "🇫🇷🇩🇪", "x🙂y", "a\u200db", "zero\u200bwidth",
    "nbsp\u00a0here", "\u00a0\u00a0x", "ideo\u3000space", "line\u2028sep", "para\u2029sep", "nel\u0085x",
    "\x1c\x1d\x1e\x1f", "a\x1cb", "\x0b\x0c", "tab\there", "\ufeffbom", "½ ⅓ ¾", "Ⅻ century", "٣٤٥ ١٢٣٤",
    "²³", "x² + y²", "\U0001d400\U0001d401", "\ue000private", "ﬁ ligature", "ǅungla",
    "ʰmodifier", "々々", "\t'", " '", "'\n", "a'\r\n", "-\r\n\r\n", " !\n \n", "  !", "\n\n!",
]

# Code points for random strings: every class the patterns care about, drawn from characters
# assigned long ago so both Unicode versions agree on them.
POOL = (list("abcXYZ'sdmtlverSDMTLVER0123456789 !?.,-_()\"#@") + [" "] * 8 +
        ["\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\xa0", "\u2009", "\u3000", "\u2028", "\x1c", "\x1f",
         "\u0301", "\u0308", "\u200d", "\u200b", "é", "ſ", "ß", "ǅ", "ʰ", "日", "本", "語", "。", "，",
         "😀", "👍", "\U0001f3fd", "🇫", "\U0001f1f7", "½", "Ⅻ", "٣", "²", "\U0001d400", "\ue000", "€", "£",
         "ع", "ह", "ि", "한", "п"])


def random_strings(count, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        out.append("".join(rng.choice(POOL) for _ in range(rng.randint(1, 40))))
    return out


# My own text for the merge fixtures (written for this project, not taken from anywhere).
TRAIN_TEXT = """The lighthouse keeper counted ships the way other people count sheep.
One, two, three -- and then a fourth, late, limping in with a torn sail.
She wrote each one down in a ledger that smelled of salt and lamp oil:
"Tuesday, 14 March: the Marigold, 3 masts, 27 crew; wind from the north-east."

It's not that she didn't sleep. She'd sleep when the fog came in, because in fog
there's nothing to count, only the horn to sound every 30 seconds, 120 times an hour,
2880 times a day if the fog's stubborn. She'll tell you the horn isn't loud;
it's just that the sea is quiet, and you've never heard quiet until you've heard it there.

Visitors asked the same questions: Do you get lonely? What do you eat? Isn't it cold?
She answered them the same way: sometimes; fish, bread, and tinned peaches; yes.
A child once asked whether the light ever went out. "Once," she said, "in 1987,
for eleven minutes." The child wanted to know what happened in those eleven minutes.
"Nothing," she said. "That's the point. Nothing happened, and nobody knew it could have."

Café owners in the village called her la gardienne; tourists called her the lamp lady.
Her nephew, who studied in Kyoto, sent postcards in careful handwriting: 灯台守へ、元気ですか。
She pinned them above the stove next to a drawing of a whale 🐋 and a note that said
"back at 6 -- don't let the kettle boil dry!!!"   She never did let it boil dry.

In winter the stairs froze. 114 steps, she'd say, 115 if you count the one that's broken.
Counting, always counting: steps, ships, seconds, the naïve hope of tourists, the years.
"""

ENCODE_SAMPLES = [
    "The keeper counted 115 ships.", "It's 6 o'clock -- don't let it boil!!!", "  spaced   out  \n\n",
    "unseen words: zephyr quixotic", "灯台守 🐋 café", "\r\n\r\nend", "",
    # pieces longer than 64 bytes, which the Swift encoder merges differently
    "countingstepsshipssecondsandtheyears" * 3, "灯台守へ元気ですか" * 4,
]

SPECIAL = {"<|endoftext|>": 1000, "<|fim|>": 1001}


def write_json(name, obj):
    path = os.path.join(FIXTURES, name)
    with open(path, "w", encoding="utf-8") as f:
        # one list element per line: compact, yet diffs stay readable
        f.write("{\n")
        for i, (key, value) in enumerate(obj.items()):
            comma = "," if i < len(obj) - 1 else ""
            if isinstance(value, list):
                f.write(f" {json.dumps(key)}: [\n")
                f.write(",\n".join("  " + json.dumps(v, ensure_ascii=True) for v in value))
                f.write(f"\n ]{comma}\n")
            else:
                f.write(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=True)}{comma}\n")
        f.write("}\n")
    print("wrote", os.path.relpath(path), os.path.getsize(path), "bytes")


def ranges_of(compiled):
    out, start = [], None
    for cp in range(0x110001):
        ok = cp < 0x110000 and not (0xD800 <= cp <= 0xDFFF) and compiled.fullmatch(chr(cp)) is not None
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append([start, cp - 1])
            start = None
    return out


def make_fixtures():
    texts = TRICKY + random_strings(300, seed=5)
    cases = [{"text": t, **{name: regex.findall(p, t) for name, p in PATTERNS.items()}} for t in texts]
    for case in cases:
        assert "".join(case["gpt4"]) == case["text"] and "".join(case["gpt2"]) == case["text"]
    write_json("presplit.json", {"patterns": PATTERNS, "cases": cases})

    write_json("unicode_classes.json", {
        "note": "code-point ranges matched by the regex module's \\s, \\p{L}, \\p{N} (regex " + regex.__version__ + ")",
        "whitespace": ranges_of(regex.compile(r"\s")),
        "letter": ranges_of(regex.compile(r"\p{L}")),
        "number": ranges_of(regex.compile(r"\p{N}")),
    })

    models = []
    tie_text = "ab ab cd cd ef ef\nxyxyxy zzzz aaaa abab"  # many equal counts: exercises the tie rule
    for name, text, vocab_size in [("gpt4", TRAIN_TEXT, 520), ("gpt2", TRAIN_TEXT, 520), ("gpt4", tie_text, 270)]:
        t = ReferenceBPE(name)
        t.train(text, vocab_size)
        t.register_special_tokens({k: v for k, v in SPECIAL.items()})
        samples = ENCODE_SAMPLES + ["a<|endoftext|>b<|fim|><|endoftext|>"]
        encodings = [{"text": s, "ids": t.encode(s, allowed_special="all")} for s in samples]
        for e in encodings:
            assert t.decode(e["ids"]) == e["text"]
        models.append({
            "pattern": name, "text": text, "vocab_size": vocab_size, "special": t.special,
            "merges": [list(p) for p in t.merges],
            "encodings": encodings,
            "encode_ordinary_with_special_text": t.encode("x<|endoftext|>y", allowed_special="none"),
            "encode_only_fim": t.encode("<|fim|><|endoftext|>", allowed_special={"<|fim|>"}),
            "model_file": t.model_text(),
            "vocab_file": t.vocab_text(),
        })
    write_json("bpe_reference.json", {"models": models})

    broken = [b"\xe2\x82", b"a\xf0\x9f\x99", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
              b"\xe2\x28\xa1", b"\xf0\x9f\x99\x82\xf0\x9f", b"\x80\x80abc", b"\xe6\x97\xa5\xe6"]
    write_json("utf8_replacement.json", {"cases": [{"bytes": list(b), "text": b.decode("utf-8", errors="replace")}
                                                    for b in broken]})


def time_train(path, vocab_size, pattern, merges_out):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    t = ReferenceBPE(pattern)
    start = time.perf_counter()
    t.train(text, vocab_size)
    elapsed = time.perf_counter() - start
    print(f"python reference: {vocab_size - 256} merges on {len(text.encode('utf-8'))} bytes in {elapsed:.1f} s")
    if merges_out:
        with open(merges_out, "w") as f:
            json.dump([list(p) for p in t.merges], f)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-train", metavar="FILE")
    ap.add_argument("--vocab-size", type=int, default=1024)
    ap.add_argument("--pattern", choices=sorted(PATTERNS), default="gpt4")
    ap.add_argument("--merges-out")
    args = ap.parse_args()
    if args.time_train:
        time_train(args.time_train, args.vocab_size, args.pattern, args.merges_out)
    else:
        make_fixtures()
