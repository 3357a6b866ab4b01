#!/usr/bin/env python3
"""A small client for the newsdex query socket (`newsdex-search --listen`).

The protocol is newline-delimited JSON: one request a line, one response a
line, in order (the README, "Query socket").  Python standard library only.

As a module:

    from newsdex_client import Client, NewsdexError

    with Client("127.0.0.1:7878") as c:
        r = c.search('"security guarantees" source:newsweek', k=5)
        for hit in r["hits"]:
            print(hit["score"], hit["title"], hit["snippet"])
        doc = c.get(r["hits"][0]["article"])       # the whole article
        print(c.stats()["articles"], c.ping())
        # Several requests in one round trip (answers come back in order):
        for r in c.search_many(["ukraine", "rubio", "nato"], k=3):
            print(r["total"])

A failed request raises NewsdexError with .code (too_large, overloaded,
timeout, syntax, invalid, not_found, internal) and .message.

As a command:

    python3 examples/newsdex_client.py --addr 127.0.0.1:7878 'query'
    python3 examples/newsdex_client.py --addr unix:/tmp/newsdex.sock \\
        --source Newsweek --from 2025-04-01 -k 3 --json 'peace talks'
    python3 examples/newsdex_client.py --get ARTICLE_ID
    python3 examples/newsdex_client.py --stats
"""

import argparse
import json
import socket
import sys

DEFAULT_ADDR = "127.0.0.1:7878"


class NewsdexError(Exception):
    """An error response: code is one of the protocol's stable codes."""

    def __init__(self, code, message, response=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.response = response


def parse_addr(addr):
    """'HOST:PORT', 'tcp:HOST:PORT', 'tcp:PORT', 'PORT', 'unix:/PATH' or
    '/PATH' -> (family, address)."""
    if addr.startswith("unix:"):
        return socket.AF_UNIX, addr[5:]
    if addr.startswith("/") or addr.startswith("./"):
        return socket.AF_UNIX, addr
    if addr.startswith("tcp:"):
        addr = addr[4:]
    host, port = "127.0.0.1", 7878
    if addr.isdigit():
        port = int(addr)
    elif addr.startswith("["):
        end = addr.index("]")
        host = addr[1:end]
        if addr[end + 1:].startswith(":"):
            port = int(addr[end + 2:])
    elif addr:
        host, _, p = addr.rpartition(":") if ":" in addr else (addr, "", "")
        if p:
            port = int(p)
    return socket.AF_INET6 if ":" in host else socket.AF_INET, (host, port)


class Client:
    """One connection to a newsdex server.  Not for use by several threads
    at once; open one Client per thread."""

    def __init__(self, addr=DEFAULT_ADDR, timeout=30.0):
        family, address = parse_addr(addr)
        if family == socket.AF_UNIX:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(address)
        else:
            self.sock = socket.create_connection(address, timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")
        self.next_id = 1

    def close(self):
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the wire ----------------------------------------------------------

    def _send(self, requests):
        ids = []
        lines = []
        for req in requests:
            req = dict(req)
            req.setdefault("id", self.next_id)
            self.next_id += 1
            ids.append(req["id"])
            lines.append(json.dumps(req, separators=(",", ":"),
                                    ensure_ascii=False))
        self.sock.sendall(("\n".join(lines) + "\n").encode("utf-8"))
        return ids

    def _receive(self, want_id):
        line = self.reader.readline()
        if not line.endswith(b"\n"):
            raise ConnectionError("the server closed the connection")
        resp = json.loads(line)
        if resp.get("id") != want_id and resp.get("id") is not None:
            raise ConnectionError("response %r for request %r"
                                  % (resp.get("id"), want_id))
        return resp

    @staticmethod
    def _check(resp):
        if not resp.get("ok"):
            err = resp.get("error") or {}
            raise NewsdexError(err.get("code", "internal"),
                               err.get("message", ""), resp)
        return resp

    def request(self, req):
        """Sends one request object and returns its response object
        (raising NewsdexError when ok is false)."""
        (rid,) = self._send([req])
        return self._check(self._receive(rid))

    def pipeline(self, reqs):
        """Sends several requests at once and returns their responses in
        order; failed ones are returned as they are, not raised."""
        ids = self._send(reqs)
        return [self._receive(rid) for rid in ids]

    # -- the operations ------------------------------------------------------

    @staticmethod
    def _search_request(q, k=None, offset=None, sources=None, date_from=None,
                        date_to=None, sort=None, group=None, snippets=None,
                        snippet_len=None):
        req = {"op": "search", "q": q}
        for name, val in (("k", k), ("offset", offset), ("sources", sources),
                          ("from", date_from), ("to", date_to),
                          ("sort", sort), ("group", group),
                          ("snippets", snippets),
                          ("snippet_len", snippet_len)):
            if val is not None:
                req[name] = val
        return req

    def search(self, q, **opts):
        """Runs a query.  Options: k, offset, sources (list), date_from,
        date_to ("2025-04-01", "2025-04", "2025"), sort ("relevance",
        "newest", "oldest"), group ("article", "passage"), snippets (bool),
        snippet_len.  Returns {"total", "took_ms", "hits": [...]}."""
        return self.request(self._search_request(q, **opts))

    def search_many(self, queries, **opts):
        """Runs several queries in one round trip; raises on the first
        failed one."""
        reqs = [self._search_request(q, **opts) for q in queries]
        return [self._check(r) for r in self.pipeline(reqs)]

    def get(self, article):
        """The whole article: {"id", "date", "source", "title", "url",
        "passages": [...]}."""
        return self.request({"op": "get", "article": article})["article"]

    def stats(self):
        return self.request({"op": "stats"})["stats"]

    def ping(self):
        return self.request({"op": "ping"}).get("pong") is True


# -- the command line --------------------------------------------------------

def show_snippet(s, tty):
    if tty:
        return s.replace("<b>", "\033[1m").replace("</b>", "\033[0m")
    return s.replace("<b>", "[").replace("</b>", "]")


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Search a newsdex server (newsdex-search --listen).")
    ap.add_argument("query", nargs="*", help="query words (newsdex syntax)")
    ap.add_argument("--addr", default=DEFAULT_ADDR,
                    help="HOST:PORT or unix:/PATH (default %(default)s)")
    ap.add_argument("-k", type=int, help="hits to return (10)")
    ap.add_argument("--offset", type=int, help="hits to skip")
    ap.add_argument("--source", action="append", help="only this source")
    ap.add_argument("--from", dest="date_from", help="first date")
    ap.add_argument("--to", dest="date_to", help="last date")
    ap.add_argument("--sort", choices=["relevance", "newest", "oldest"])
    ap.add_argument("--passages", action="store_true",
                    help="every matching passage, not one per article")
    ap.add_argument("--json", action="store_true",
                    help="print the raw response")
    ap.add_argument("--get", metavar="ID", help="print one article")
    ap.add_argument("--stats", action="store_true", help="index statistics")
    ap.add_argument("--ping", action="store_true", help="is it up?")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds to wait (default %(default)s)")
    a = ap.parse_args(argv)
    if not (a.query or a.get or a.stats or a.ping):
        ap.error("give a query, --get ID, --stats or --ping")
    try:
        with Client(a.addr, timeout=a.timeout) as c:
            if a.ping:
                print("pong" if c.ping() else "no pong")
                return 0
            if a.stats:
                print(json.dumps(c.stats(), indent=None if a.json else 2,
                                 ensure_ascii=False))
                return 0
            if a.get:
                doc = c.get(a.get)
                if a.json:
                    print(json.dumps(doc, ensure_ascii=False))
                else:
                    print("%s\n%s  %s  %s\n" % (doc["title"] or doc["id"],
                                                doc["date"] or "undated",
                                                doc["source"], doc["url"]))
                    print("\n\n".join(doc["passages"]))
                return 0
            r = c.search(" ".join(a.query), k=a.k, offset=a.offset,
                         sources=a.source, date_from=a.date_from,
                         date_to=a.date_to, sort=a.sort,
                         group="passage" if a.passages else None)
    except NewsdexError as e:
        print("newsdex: %s: %s" % (e.code, e.message), file=sys.stderr)
        return 2 if e.code in ("syntax", "invalid") else 1
    except (OSError, ValueError) as e:
        print("newsdex: %s: %s (is newsdex-search --listen running there?)"
              % (a.addr, e), file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps(r, ensure_ascii=False))
        return 0
    tty = sys.stdout.isatty()
    for i, h in enumerate(r["hits"], start=(a.offset or 0) + 1):
        print("%d. %s  %.3f  %s  %s  %s#%d" % (
            i, h["title"] or h["article"], h["score"], h["date"] or "undated",
            h["source"], h["article"], h["passage"]))
        print("   " + show_snippet(h["snippet"], tty) + "\n")
    if r.get("total_exact", True):
        print("%d match%s, %.2f ms" % (r["total"],
                                       "" if r["total"] == 1 else "es",
                                       r["took_ms"]))
    else:
        print("{:,}+ matches, {:.2f} ms".format(r["total"], r["took_ms"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
