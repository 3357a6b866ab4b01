#!/usr/bin/env python3
"""Measures what a "repeated line" furniture rule would remove.

For each source of a JSON Lines corpus, counts in how many articles each
line stands (a line counts once per article; case folded, white space
collapsed; lines above 64 words ignored, as the cleaner does), then prints,
for thresholds of articles (M) and words (W), how many lines of at least W
words in at least M articles of one source the rule would add to the share
rule (at least 5 articles and a fifth of the source), and the top lines
of the rule given by --show M,W.

    bench/furniture_lines.py ../shared/corpora/allsides.jsonl.gz --show 10,6
"""
import argparse
import collections
import gzip
import json
import re


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--show", default="10,6")
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    per = collections.defaultdict(collections.Counter)
    arts = collections.Counter()
    opener = gzip.open if args.corpus.endswith(".gz") else open
    with opener(args.corpus, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            s = d["source"]
            arts[s] += 1
            seen = set()
            for ln in re.split(r"\n+", d["text"]):
                n = " ".join(ln.lower().split())
                if n and len(n.split()) <= 64:
                    seen.add(n)
            for n in seen:
                per[s][n] += 1
    rows = [(k, s, n) for s, c in per.items() for n, k in c.items() if k >= 5]
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    share = [r for r in rows if r[0] >= 0.2 * arts[r[1]]]
    print(f"share rule (>= 5 articles and >= 20% of the source): "
          f"{len(share)} lines")
    print("| min articles | min words | lines added | line occurrences |")
    print("| ---: | ---: | ---: | ---: |")
    for m in (5, 10, 20):
        for w in (1, 4, 6, 8):
            new = [r for r in rows if r[0] >= m and len(r[2].split()) >= w
                   and r[0] < 0.2 * arts[r[1]]]
            print(f"| {m} | {w} | {len(new)} | {sum(r[0] for r in new)} |")
    m, w = (int(x) for x in args.show.split(","))
    new = [r for r in rows if r[0] >= m and len(r[2].split()) >= w
           and r[0] < 0.2 * arts[r[1]]]
    print(f"\ntop lines added by M={m}, W={w}:")
    for k, s, n in new[:args.top]:
        print(f"{k:6d}  {s}  {n[:100]}")


if __name__ == "__main__":
    main()
