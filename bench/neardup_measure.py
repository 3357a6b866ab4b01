#!/usr/bin/env python3
"""Chooses the near-duplicate threshold: reads the pairs that
build/ndx-neardup-pairs lists (estimated similarity >= 0.4) and the corpus,
computes each pair's true Jaccard similarity of word 3-shingles (the same
words as core/ingest/neardup.c), and prints, for each threshold on the
estimate, how many pairs the indexer would fold (same source) or cluster
(other sources) -- with the indexer's other conditions: word counts within
20%, dates at most 3 days apart -- and how many of those are truly less
than 0.7 similar.

    build/ndx-neardup-pairs CORPUS > pairs.tsv
    bench/neardup_measure.py CORPUS pairs.tsv
"""
import gzip
import json
import re
import sys

WORD = re.compile(r"[A-Za-z0-9\x80-\U0010ffff]+")


def shingles(text):
    w = WORD.findall(text.lower())
    return set(zip(w, w[1:], w[2:]))


def main():
    corpus, pairs_path = sys.argv[1], sys.argv[2]
    pairs = [l.rstrip("\n").split("\t") for l in open(pairs_path)]
    need = {p[5] for p in pairs} | {p[6] for p in pairs}
    texts = {}
    opener = gzip.open if corpus.endswith(".gz") else open
    with opener(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["id"] in need:
                texts[d["id"]] = d["text"]
    rows = []
    for est, same, _title, w1, w2, a, b, days in pairs:
        w1, w2, days = int(w1), int(w2), int(days)
        ok = min(w1, w2) * 5 >= max(w1, w2) * 4 and days <= 3
        A, B = shingles(texts[a]), shingles(texts[b])
        rows.append((float(est), same == "1", ok, len(A & B) / max(1, len(A | B))))
    print(f"{corpus}: {len(rows)} pairs with estimate >= 0.4")
    print("| threshold | folded (same source) | of which true < 0.7 "
          "| clustered (other sources) | of which true < 0.7 "
          "| true >= 0.7 missed |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for t in (0.6, 0.7, 0.75, 0.8, 0.85, 0.9):
        sel = [r for r in rows if r[0] >= t and r[2]]
        fold = [r for r in sel if r[1]]
        clus = [r for r in sel if not r[1]]
        missed = [r for r in rows if r[3] >= 0.7 and not (r[0] >= t and r[2])]
        print(f"| {t} | {len(fold)} | {sum(r[3] < 0.7 for r in fold)} "
              f"| {len(clus)} | {sum(r[3] < 0.7 for r in clus)} "
              f"| {len(missed)} |")


if __name__ == "__main__":
    main()
