#!/usr/bin/python3
"""Known-item probes: does the article a reader remembers come first?

A probe is three words of one sentence of one article, each word standing
in 2 to 200 articles of the corpus, searched as bare words; it succeeds
when that article is the first hit (top-1).  The probes are drawn from a
corpus with a fixed seed, so every engine and every parameter setting
answers the same 200 questions.

    bench/probes.py build CORPUS [--n 200] [--seed 16] > probes.tsv
    bench/probes.py newsdex INDEX probes.tsv [--k1 1.2] [--b 0.75] [--grid]
                                                 (--grid: build/ndx-probe-grid,
                                                 k1 0.6..2.0 by b 0.3..0.9)
    bench/probes.py xapian CORPUS probes.tsv     plain Xapian (libxapian through
                                                 python3-xapian: documents are
                                                 articles, TermGenerator with
                                                 the English stemmer, QueryParser,
                                                 BM25 k1=1, b=0.5, its defaults)
    bench/probes.py fts5 CORPUS probes.tsv       SQLite FTS5 (porter tokenizer,
                                                 bm25(), one row per article)
    bench/probes.py dupes INDEX QUERIES.tsv      top-10 pages holding two hits
                                                 of one source with one title

newsdex is run through build/newsdex-search (--json -k 1, the words as
typed: all of them must match in one passage, ranked by BM25 over
passages).  Words are runs of ASCII letters (case folded, at least 3);
sentences end at '.', '!' or '?' followed by a space, and at the end of
their line.
"""
import argparse
import collections
import gzip
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORD = re.compile(r"[A-Za-z]{3,}")
SENT = re.compile(r"(?<=[.!?])\s+")


def articles(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def build(args):
    df = collections.Counter()
    arts = []
    for a in articles(args.corpus):
        words = set(w.lower() for w in WORD.findall(a["title"] + " " + a["text"]))
        df.update(words)
        arts.append((a["id"], a["text"]))
    rng = random.Random(args.seed)
    out, tries = [], 0
    while len(out) < args.n and tries < args.n * 1000:
        tries += 1
        aid, text = arts[rng.randrange(len(arts))]
        # A sentence lies inside one paragraph: a line without a final
        # stop (a heading, a caption, a byline) ends where its line does.
        sents = [s for para in text.split("\n") for s in SENT.split(para)
                 if s.strip()]
        if not sents:
            continue
        sent = sents[rng.randrange(len(sents))]
        cand, seen = [], set()
        for w in WORD.findall(sent):
            lw = w.lower()
            if 2 <= df[lw] <= 200 and lw not in seen:
                seen.add(lw)
                cand.append(lw)
        if len(cand) < 3:
            continue
        pick = sorted(rng.sample(range(len(cand)), 3))
        out.append((aid, " ".join(cand[i] for i in pick)))
    for aid, q in out:
        print("%s\t%s" % (aid, q))


def read_probes(path):
    with open(path, encoding="utf-8") as f:
        return [tuple(l.rstrip("\n").split("\t")) for l in f if l.strip()]


def report(name, probes, firsts):
    hit = sum(1 for (aid, _), top in zip(probes, firsts) if top == aid)
    print("%-40s top-1 %3d/%d = %.1f%%" % (name, hit, len(probes),
                                          100.0 * hit / len(probes)))
    return hit


def newsdex_top(index, q, k1, b):
    cmd = [os.path.join(ROOT, "build", "newsdex-search"), "-i", index,
           "--json", "--no-snippets", "-k", "1"]
    if k1 is not None:
        cmd += ["--k1", str(k1)]
    if b is not None:
        cmd += ["--b", str(b)]
    r = subprocess.run(cmd + ["--", q], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("newsdex-search failed: %s" % r.stderr.strip())
    hits = json.loads(r.stdout)["hits"]
    return hits[0]["article"] if hits else None


def run_newsdex(args):
    if args.grid:
        # One process over the whole grid (build/ndx-probe-grid opens the
        # index once): k1 0.6..2.0 by b 0.3..0.9.
        tool = os.path.join(ROOT, "build", "ndx-probe-grid")
        if not os.access(tool, os.X_OK):
            sys.exit("%s not built; run: make build/ndx-probe-grid" % tool)
        sys.exit(subprocess.run([tool, args.index, args.probes]).returncode)
    probes = read_probes(args.probes)
    for k1, b in [(args.k1, args.b)]:
        firsts = [newsdex_top(args.index, q, k1, b) for _, q in probes]
        report("newsdex k1=%s b=%s" % (k1, b), probes, firsts)


def run_xapian(args):
    import xapian
    probes = read_probes(args.probes)
    tmp = tempfile.mkdtemp(prefix="probes-xapian-")
    db = xapian.WritableDatabase(tmp, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    tg.set_stemmer(xapian.Stem("english"))
    for a in articles(args.corpus):
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(a["title"])
        tg.increase_termpos()
        tg.index_text(a["text"])
        doc.set_data(a["id"])
        db.add_document(doc)
    db.commit()
    qp = xapian.QueryParser()
    qp.set_stemmer(xapian.Stem("english"))
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_database(db)
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight(1, 0, 1, 0.5, 0.5))
    firsts = []
    for _, q in probes:
        enq.set_query(qp.parse_query(q))
        m = enq.get_mset(0, 1)
        firsts.append(m[0].document.get_data().decode() if m.size() else None)
    report("plain Xapian (BM25 k1=1 b=0.5, OR)", probes, firsts)


def run_fts5(args):
    probes = read_probes(args.probes)
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, "
                "body, tokenize='porter')")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)",
                    ((a["id"], a["title"], a["text"])
                     for a in articles(args.corpus)))
    firsts = []
    for _, q in probes:
        row = con.execute("SELECT id FROM t WHERE t MATCH ? ORDER BY bm25(t) "
                          "LIMIT 1", (q,)).fetchone()
        firsts.append(row[0] if row else None)
    report("SQLite FTS5 (bm25, AND)", probes, firsts)


def run_dupes(args):
    """Counts the top-10 pages (each query of the set, k=10) that hold two
    hits of the same source with the same title."""
    pages = bad = 0
    with open(args.queries, encoding="utf-8") as f:
        next(f)
        for line in f:
            kind, q, source, dfrom, dto = line.rstrip("\n").split("\t")
            if kind == "or":
                q = " OR ".join(q.split())
            elif kind == "phrase":
                q = '"%s"' % q
            cmd = [os.path.join(ROOT, "build", "newsdex-search"), "-i",
                   args.index, "--json", "--no-snippets", "-k", "10"]
            if source:
                cmd += ["--source", source]
            if dfrom:
                cmd += ["--from", dfrom]
            if dto:
                cmd += ["--to", dto]
            r = subprocess.run(cmd + ["--", q], capture_output=True,
                               text=True)
            if r.returncode != 0:
                continue
            hits = json.loads(r.stdout)["hits"]
            keys = [(h["source"], h["title"]) for h in hits if h["title"]]
            pages += 1
            if len(keys) != len(set(keys)):
                bad += 1
    print("%s: %d of %d top-10 pages hold two hits of one source with one "
          "title" % (args.index, bad, pages))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("build")
    p.add_argument("corpus")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--seed", type=int, default=16)
    p.set_defaults(fn=build)
    p = sub.add_parser("newsdex")
    p.add_argument("index")
    p.add_argument("probes")
    p.add_argument("--k1", type=float)
    p.add_argument("--b", type=float)
    p.add_argument("--grid", action="store_true")
    p.set_defaults(fn=run_newsdex)
    p = sub.add_parser("xapian")
    p.add_argument("corpus")
    p.add_argument("probes")
    p.set_defaults(fn=run_xapian)
    p = sub.add_parser("fts5")
    p.add_argument("corpus")
    p.add_argument("probes")
    p.set_defaults(fn=run_fts5)
    p = sub.add_parser("dupes")
    p.add_argument("index")
    p.add_argument("queries")
    p.set_defaults(fn=run_dupes)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
