#!/usr/bin/env python3
"""Query sets for the newsdex benchmark: load, generate, translate.

A query set is tab-separated with the header `kind query source date_from
date_to` (the format of ../shared/corpora/*-queries.tsv): kind is term, and,
or, phrase or filtered; query is lower-case words separated by one space;
empty cells mean no filter; dates are whole days, both ends inclusive.

generate() makes such a set from a JSON Lines corpus by the method the
shared corpora use, deterministically (seeded):
  term      one word, not a stop word: a third rare (in 2-5 articles), a
            third medium (in 0.2-2 % of articles), a third very frequent
            (in >= 10 % of articles, else the most frequent words)
  and, or   2-4 content words of one article's title that also occur in its
            body
  phrase    2-3 consecutive words with nothing but a space between them
            inside one paragraph, not starting or ending with a stop word:
            half drawn from random articles, half from the most frequent
            bigrams and trigrams
  filtered  1-3 title words plus filters the article satisfies: a third
            source only, a third a date range (1 day to 1 year) only, a
            third both (a corpus of one source gets date ranges only)
Tokens are runs of ASCII letters and digits, lower-cased.  Small corpora get
fewer queries where a band is empty.

translate() turns each query into the line bench/ndx-bench reads:
  kind, newsdex query, FTS5 MATCH expression, source, from-days, to-days,
  label, Xapian QueryParser query
newsdex: and -> words, or -> a OR b, phrase -> "a b", filtered -> words plus
source:"..." date:FROM..TO.  FTS5: every word quoted (so that no word is
read as an operator), implicit AND, OR, "a b" for phrases; filters go to
the SQL (or, for fts5-match, into MATCH) as the source name and days since
1970-01-01.  Xapian: the words as newsdex has them without the filters
(QueryParser's default operator is set to AND; the filters become
OP_FILTER queries).

Usage: bench/queries.py CORPUS.jsonl[.gz] [--seed S] > queries.tsv
"""

import collections
import datetime
import gzip
import json
import random
import re
import sys

KINDS = ("term", "and", "or", "phrase", "filtered")
COUNTS = {"term": 150, "and": 100, "or": 50, "phrase": 100, "filtered": 100}

STOP = set("""
a about above after again against all also am an and any are as at be
because been before being below between both but by can could did do does
doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours
ourselves out over own said same says she should so some such than that the
their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves mr mrs ms one two new
""".split())

# An apostrophe inside a word keeps it whole, as the newsdex analyzer does
# ("russia's"); such words are never chosen as query words.
TOKEN = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z0-9]+)*")
# Words with exactly one space between each and no other character next to
# the run (so not "s military" out of "Russia's military", nor "000 troops"
# out of "600,000 troops").
RUN = re.compile(r"(?<![\w'\u2019.,-])[A-Za-z0-9]+(?: [A-Za-z0-9]+)+"
                 r"(?![\w'\u2019]|[.,-]\w)")
EPOCH = datetime.date(1970, 1, 1)


def open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_articles(path):
    with open_text(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                a = json.loads(line)
            except ValueError:
                continue
            if isinstance(a, dict) and a.get("text"):
                yield {k: str(a.get(k) or "") for k in
                       ("id", "source", "date", "title", "text")}


def words(text):
    return [w.lower() for w in TOKEN.findall(text)]


def content(word):
    return (word not in STOP and len(word) > 1 and not word.isdigit() and
            word.isalnum())


def parse_day(s):
    try:
        return datetime.date(int(s[0:4]), int(s[5:7]), int(s[8:10]))
    except (ValueError, IndexError):
        return None


def generate(path, seed=1, counts=None):
    """Returns a list of (kind, query, source, date_from, date_to)."""
    counts = counts or COUNTS
    rnd = random.Random(seed)
    df = collections.Counter()
    grams = collections.Counter()
    arts = []
    for a in read_articles(path):
        df.update(set(words(a["title"] + " " + a["text"])))
        arts.append(a)
        # Frequent n-grams from the first paragraphs keep this cheap.
        for para in a["text"].split("\n\n")[:4]:
            for run in RUN.findall(para):
                ws = run.lower().split(" ")
                for n in (2, 3):
                    for i in range(len(ws) - n + 1):
                        g = ws[i:i + n]
                        if content(g[0]) and content(g[-1]):
                            grams[" ".join(g)] += 1
    if not arts:
        raise SystemExit("queries: no article with text in %s" % path)
    total = len(arts)
    out = []
    seen = set()

    def add(kind, q, source="", dfrom="", dto=""):
        key = (kind, q, source, dfrom, dto)
        if q and key not in seen:
            seen.add(key)
            out.append(key)
            return True
        return False

    # term: three frequency bands.
    vocab = sorted(w for w in df if content(w) and w.isalpha())
    bands = [
        [w for w in vocab if 2 <= df[w] <= 5],
        [w for w in vocab if 0.002 * total <= df[w] <= 0.02 * total],
        [w for w in vocab if df[w] >= 0.10 * total],
    ]
    if len(bands[2]) < counts["term"] // 3:
        bands[2] = sorted(vocab, key=lambda w: (-df[w], w))[:counts["term"]]
    for band in bands:
        rnd.shuffle(band)
        for w in band[:counts["term"] // 3]:
            add("term", w)

    def title_words(a, need_body=True):
        body = set(words(a["text"])) if need_body else None
        ws = []
        for w in words(a["title"]):
            if content(w) and w not in ws and (body is None or w in body):
                ws.append(w)
        return ws

    def draw(kind, n, build, tries_per=50):
        made = 0
        for _ in range(n * tries_per):
            if made >= n:
                break
            a = arts[rnd.randrange(total)]
            q = build(a)
            if q and add(kind, *q):
                made += 1

    def conj(a):
        ws = title_words(a)
        if len(ws) < 2:
            return None
        return (" ".join(rnd.sample(ws, rnd.randint(2, min(4, len(ws))))),)

    draw("and", counts["and"], conj)
    draw("or", counts["or"], conj)

    def phrase(a):
        paras = [p for p in a["text"].split("\n\n") if p.strip()]
        if not paras:
            return None
        runs = [r.lower().split(" ") for r in RUN.findall(rnd.choice(paras))]
        runs = [r for r in runs if len(r) >= 2]
        if not runs:
            return None
        r = rnd.choice(runs)
        n = rnd.choice((2, 3)) if len(r) >= 3 else 2
        i = rnd.randrange(len(r) - n + 1)
        g = r[i:i + n]
        if not (content(g[0]) and content(g[-1])):
            return None
        return (" ".join(g),)

    half = counts["phrase"] // 2
    draw("phrase", half, phrase)
    for g, _ in sorted(grams.items(), key=lambda kv: (-kv[1], kv[0])):
        if sum(1 for q in out if q[0] == "phrase") >= counts["phrase"]:
            break
        add("phrase", g)

    sources = collections.Counter(a["source"] for a in arts)
    one_source = len(sources) < 2

    def filtered_maker(which):
        def build(a):
            ws = title_words(a, need_body=False) or [
                w for w in words(a["text"])[:30] if content(w)]
            if not ws:
                return None
            q = " ".join(rnd.sample(ws, rnd.randint(1, min(3, len(ws)))))
            day = parse_day(a["date"])
            src = a["source"] if a["source"] and "\"" not in a["source"] \
                else ""
            mode = which
            if one_source and mode == 0:
                mode = 1
            if mode in (1, 2) and not day:
                return None
            if mode in (0, 2) and not src:
                return None
            dfrom = dto = ""
            if mode in (1, 2):
                span = rnd.choice((1, 7, 30, 90, 365))
                start = day - datetime.timedelta(days=rnd.randrange(span))
                dfrom = start.isoformat()
                dto = (start + datetime.timedelta(days=span - 1)).isoformat()
            return (q, src if mode in (0, 2) else "", dfrom, dto)
        return build

    third = counts["filtered"] // 3
    draw("filtered", third, filtered_maker(0))
    draw("filtered", third, filtered_maker(1))
    draw("filtered", counts["filtered"] - 2 * third, filtered_maker(2))
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(out, key=lambda q: order[q[0]])


def load(path):
    """Reads a query TSV; returns a list of (kind, query, source, from, to)."""
    out = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:2] != ["kind", "query"]:
            raise SystemExit("%s: header must start with kind, query" % path)
        for n, line in enumerate(f, 2):
            cells = line.rstrip("\n").split("\t")
            if not cells or not cells[0]:
                continue
            cells += [""] * (5 - len(cells))
            kind, query = cells[0], " ".join(cells[1].split())
            if kind not in KINDS:
                raise SystemExit("%s:%d: unknown kind %r" % (path, n, kind))
            if query:
                out.append((kind, query, cells[2], cells[3], cells[4]))
    return out


def write(queries, f):
    f.write("kind\tquery\tsource\tdate_from\tdate_to\n")
    for q in queries:
        f.write("\t".join(q) + "\n")


def days(s):
    d = parse_day(s)
    return str((d - EPOCH).days) if d else ""


def translate(queries):
    """Lines for ndx-bench: kind, newsdex, fts5, source, from, to, label,
    xapian."""
    lines = []
    for i, (kind, query, source, dfrom, dto) in enumerate(queries):
        ws = query.split(" ")
        quoted = ['"%s"' % w.replace('"', '""') for w in ws]
        if kind == "or":
            ndx, fts = " OR ".join(ws), " OR ".join(quoted)
        elif kind == "phrase":
            ndx, fts = '"%s"' % query, '"%s"' % query
        else:
            ndx, fts = query, " ".join(quoted)
        xq = ndx
        if source:
            ndx += ' source:"%s"' % source
        if dfrom or dto:
            ndx += " date:%s..%s" % (dfrom or "0001-01-01",
                                     dto or "9999-12-31")
        label = "%s:%d:%s" % (kind, i, query)
        lines.append("\t".join((kind, ndx, fts, source, days(dfrom),
                                days(dto), label, xq)))
    return lines


def main(argv):
    seed = 1
    args = list(argv[1:])
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        sys.stderr.write(__doc__.split("\n\n")[-1] + "\n")
        return 2
    write(generate(args[0], seed), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
