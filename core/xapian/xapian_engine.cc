/*
 * xapian_engine.cc - the Xapian engine: newsdex's engine table over
 * libxapian, so that an archive can be split into shards, each served by
 * xapian-tcpsrv on its own machine, and searched as one.
 *
 * It stores each passage as a Xapian document indexed with the terms of
 * newsdex's own analyzer (never Xapian's TermGenerator), so that passage
 * lengths and term statistics are those of the native engine; it turns the
 * query tree into a Xapian::Query, ranks with Xapian::BM25Weight, groups by
 * article with a collapse key, and counts matches per article exactly with
 * a value-count match spy (which Xapian also runs on remote shards).  It
 * leaves to others: splitting articles into passages and analyzing text
 * (the index front and analyze.c), parsing queries (query.c), snippets
 * (the front).  No C++ exception leaves this file: every entry point
 * catches and turns it into an ndx_status with a message.
 *
 * FORMAT
 *
 * Directory INDEX/:
 *   ENGINE          text: the line "xapian", then the line "shards N"
 *   db/             one Xapian (glass) database when N = 1
 *   shard-000/ ...  N databases shard-000 .. shard-(N-1) when N > 1
 * The article with id ID lives in shard fnv1a64(ID) % N (see
 * ndx_xapian_shard_of); all its passages are in that shard.
 *
 * One Xapian document per passage.  Its docid is the passage's ordinal: a
 * counter shared by all shards (1 + the largest docid any shard has used,
 * taken when the writer opens), so that an article's passages have
 * consecutive docids in insertion order, and docid order is insertion order
 * both in one database and in the shards combined (Xapian numbers the
 * combination as (docid - 1) * N + shard + 1, which keeps that order since
 * no two shards share an ordinal).  Replacing an article deletes its
 * documents and adds new ones at the end.
 *
 * Terms (wdf exactly as ndx_termset gives; positions for surface terms),
 * so that Xapian's document length is ndx_termset.length:
 *   surface, "Z"stem, "T"stem   the analyzer's terms (newsdex/analyze.h)
 * Boolean terms (wdf 0, so they add nothing to the document length):
 *   "Q" id       every passage: the article id; an id of more than 200
 *                bytes is cut to its first 180 bytes, then "#" and the 16
 *                lower-case hex digits of fnv1a64(id)
 *   "K" key      every passage: ndx_source_key() of the source
 *   "XA"         first passage: one per article (article count)
 *   "XU"         first passage of an undated article
 *   "XD" date    first passage of a dated article: sortable_serialise(days)
 *   "XS" name    first passage: the source's display name (at most 200
 *                bytes, cut at a UTF-8 boundary)
 * Values:
 *   0  date: Xapian::sortable_serialise(days); not set when undated
 *   1  article id (the collapse key)
 *   2  passage number within the article, decimal ASCII
 * Data (version 1):
 *   u8       1, the format version
 *   u8       kind: 1 = first passage (carries the article fields), 0 = other
 *   kind 1:  str source display name, str title, str url,
 *            varint zigzag(date_days) (NDX_DATE_NONE when undated)
 *   str      the passage text
 *   where str = varint byte length then the bytes, and varint = LEB128
 *   (7 bits a byte, low first, high bit = more).
 * Metadata (the same in every shard):
 *   "ndx.generation"  decimal number of commits so far
 */
#include <xapian.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "newsdex/sys/engine.h"
#include "util/file.h"
#include "util/hash.h"
#include "xapian_engine.h"

namespace {

const Xapian::valueno SLOT_DATE = 0;
const Xapian::valueno SLOT_ARTICLE = 1;
const Xapian::valueno SLOT_PASSAGE = 2;

const unsigned char DATA_VERSION = 1;
const char GEN_KEY[] = "ndx.generation";
const size_t TERM_BYTES_MAX = 200;    /* Xapian allows 245 with prefix */
const size_t ID_TERM_KEEP = 180;
/* A prefix that expands to more terms than this is an NDX_ELIMIT error
 * rather than a query that runs for minutes. */
const Xapian::termcount PREFIX_EXPANSIONS_MAX = 10000;
/* Remote shards: milliseconds for a reply, and for connecting. */
const unsigned REMOTE_TIMEOUT_MS = 10000;
const unsigned REMOTE_CONNECT_MS = 3000;
/* Items past the page that the first MSet of a page after a key holds
 * (mset_after); an untuned guess, as the key's place is unknown. */
const Xapian::doccount AFTER_WINDOW_MIN = 1000;

/* A remote shard from "tcp:HOST:PORT". */
struct remote_shard {
    std::string spec; /* as given, for messages */
    std::string host;
    unsigned port;
    bool up;
};

struct engine {
    std::string path;
    bool writing = false;
    bool in_txn = false;
    std::vector<Xapian::WritableDatabase> writers; /* one per shard */
    std::vector<std::string> names;   /* the sub-databases of db */
    std::vector<remote_shard> remotes;
    Xapian::Database db;              /* all shards as one */
    size_t nsub = 0;                  /* sub-databases in db */
    bool allow_partial = false;
    std::string down;                 /* shards that did not answer */
    Xapian::docid next_ordinal = 1;
    uint64_t generation = 0;
    ndx_termset ts;
    /* Facets: each article's source and date by the docid of its first
     * passage, built from the "XS" and "XD" postings at the first search
     * that counts facets, and again when the database changed. */
    bool fac_ok = false;
    uint64_t fac_gen = 0;
    Xapian::doccount fac_docs = 0;
    Xapian::docid fac_last = 0;
    std::vector<std::string> fac_names;  /* display names ("XS") */
    std::vector<std::string> fac_keys;   /* their source keys */
    std::vector<uint32_t> fac_src;       /* by docid; UINT32_MAX: none */
    std::vector<int32_t> fac_days;       /* by docid */
    std::vector<Xapian::docid> fac_firsts; /* first passages, ascending */
};

/* Thrown while translating a query tree that breaks query.h's rules. */
struct bad_query {
    std::string msg;
};

double
now_ms()
{
    using namespace std::chrono;
    return duration<double, std::milli>(
        steady_clock::now().time_since_epoch()).count();
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
std::string
utf8_cut(const std::string &s, size_t max)
{
    if (s.size() <= max)
        return s;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return s.substr(0, n);
}

std::string
id_term(const char *id)
{
    size_t len = strlen(id);
    std::string t("Q");

    if (len <= TERM_BYTES_MAX) {
        t.append(id, len);
        return t;
    }
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, ndx_fnv1a64(id, len));
    t += utf8_cut(std::string(id, len), ID_TERM_KEEP);
    t += '#';
    t += hex;
    return t;
}

std::string
source_key(const char *name)
{
    char key[256];
    size_t n = ndx_source_key(name ? name : "", key, sizeof key);

    if (n >= sizeof key)
        n = sizeof key - 1;
    return std::string(key, n);
}

/* ---- stored data ------------------------------------------------------- */

void
put_varint(std::string &out, uint64_t v)
{
    while (v >= 0x80) {
        out += (char)(unsigned char)(v | 0x80);
        v >>= 7;
    }
    out += (char)(unsigned char)v;
}

void
put_str(std::string &out, const char *s, size_t len)
{
    put_varint(out, len);
    out.append(s, len);
}

bool
get_varint(const char *&p, const char *end, uint64_t &v)
{
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p == end)
            return false;
        unsigned char c = (unsigned char)*p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

bool
get_str(const char *&p, const char *end, std::string &s)
{
    uint64_t len;

    if (!get_varint(p, end, len) || len > (uint64_t)(end - p))
        return false;
    s.assign(p, (size_t)len);
    p += len;
    return true;
}

struct passage_data {
    bool first = false;
    std::string source, title, url, text;
    int32_t date_days = NDX_DATE_NONE;
};

std::string
encode_data(const ndx_article *a, int first, const char *text, size_t len)
{
    std::string d;

    d += (char)DATA_VERSION;
    d += (char)(first ? 1 : 0);
    if (first) {
        const char *src = a->source ? a->source : "unknown";
        const char *title = a->title ? a->title : "";
        const char *url = a->url ? a->url : "";
        int64_t days = a->date_days;
        put_str(d, src, strlen(src));
        put_str(d, title, strlen(title));
        put_str(d, url, strlen(url));
        put_varint(d, ((uint64_t)days << 1) ^ (uint64_t)(days >> 63));
    }
    put_str(d, text, len);
    return d;
}

bool
decode_data(const std::string &d, passage_data &out)
{
    const char *p = d.data(), *end = p + d.size();
    uint64_t z;

    if (end - p < 2 || (unsigned char)p[0] != DATA_VERSION)
        return false;
    out.first = p[1] == 1;
    p += 2;
    if (out.first) {
        if (!get_str(p, end, out.source) || !get_str(p, end, out.title) ||
            !get_str(p, end, out.url) || !get_varint(p, end, z))
            return false;
        int64_t days = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
        if (days < INT32_MIN || days > INT32_MAX)
            return false;
        out.date_days = (int32_t)days;
    }
    return get_str(p, end, out.text) && p == end;
}

int32_t
value_days(const std::string &v)
{
    if (v.empty())
        return NDX_DATE_NONE;
    double d = Xapian::sortable_unserialise(v);
    if (!(d >= INT32_MIN && d <= INT32_MAX))
        return NDX_DATE_NONE;
    return (int32_t)d;
}

uint32_t
value_passage(const std::string &v)
{
    return (uint32_t)strtoul(v.c_str(), NULL, 10);
}

/* ---- errors ------------------------------------------------------------ */

ndx_status
say(ndx_status code, const char *op, const std::string &subject,
    const char *what)
{
    if (subject.empty())
        return ndx_error(code, "xapian: %s: %s", op, what);
    return ndx_error(code, "xapian: %s %s: %s", op, subject.c_str(), what);
}

/*
 * Turns the exception being handled into a status and a message; call it
 * only from a catch block.  subject names the file, shard or article.
 */
ndx_status
fail(const char *op, const std::string &subject)
{
    try {
        throw;
    } catch (const Xapian::DatabaseLockError &e) {
        return say(NDX_ELOCKED, op, subject, e.get_description().c_str());
    } catch (const Xapian::DatabaseVersionError &e) {
        return say(NDX_EVERSION, op, subject, e.get_description().c_str());
    } catch (const Xapian::DatabaseNotFoundError &e) {
        return say(NDX_ENOTFOUND, op, subject, e.get_description().c_str());
    } catch (const Xapian::DatabaseOpeningError &e) {
        return say(NDX_ENOTFOUND, op, subject, e.get_description().c_str());
    } catch (const Xapian::DatabaseCorruptError &e) {
        return say(NDX_ECORRUPT, op, subject, e.get_description().c_str());
    } catch (const Xapian::NetworkError &e) {
        return say(NDX_EIO, op, subject, e.get_description().c_str());
    } catch (const Xapian::WildcardError &e) {
        return say(NDX_ELIMIT, op, subject, e.get_description().c_str());
    } catch (const Xapian::InvalidArgumentError &e) {
        return say(NDX_EINVAL, op, subject, e.get_description().c_str());
    } catch (const Xapian::Error &e) {
        return say(NDX_EIO, op, subject, e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        return say(NDX_ENOMEM, op, subject, "out of memory");
    } catch (const std::exception &e) {
        return say(NDX_EIO, op, subject, e.what());
    } catch (...) {
        return say(NDX_EIO, op, subject, "unknown error");
    }
}

/* ---- layout ------------------------------------------------------------- */

std::string
shard_dir(const std::string &path, unsigned i, unsigned n)
{
    if (n == 1)
        return path + "/db";
    char name[32];
    snprintf(name, sizeof name, "/shard-%03u", i);
    return path + name;
}

bool
is_dir(const std::string &p)
{
    struct stat sb;
    return stat(p.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Reads INDEX/ENGINE: 1 with *shards set when it names xapian, else 0. */
int
read_engine_file(const std::string &path, unsigned *shards)
{
    std::string f = path + "/ENGINE";
    FILE *fp = fopen(f.c_str(), "r");
    char line[128];
    int ok = 0;

    *shards = 0;
    if (!fp)
        return 0;
    if (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        ok = strcmp(line, "xapian") == 0;
    }
    while (ok && fgets(line, sizeof line, fp)) {
        unsigned n;
        if (sscanf(line, "shards %u", &n) == 1)
            *shards = n;
    }
    fclose(fp);
    if (ok && (*shards == 0 || *shards > NDX_XAPIAN_SHARDS_MAX)) {
        /* No usable count: take the layout from the directories. */
        if (is_dir(path + "/db")) {
            *shards = 1;
        } else {
            unsigned n = 0;
            while (n < NDX_XAPIAN_SHARDS_MAX && is_dir(shard_dir(path, n, 2)))
                n++;
            *shards = n;
        }
    }
    return ok;
}

ndx_status
write_engine_file(const std::string &path, unsigned shards)
{
    std::string f = path + "/ENGINE";
    char body[64];
    int len = snprintf(body, sizeof body, "xapian\nshards %u\n", shards);

    return ndx_write_durable(path.c_str(), f.c_str(), body, (size_t)len);
}

/* Removes one database directory (glass keeps plain files in it). */
ndx_status
remove_db_dir(const std::string &dir)
{
    DIR *d = opendir(dir.c_str());
    struct dirent *ent;

    if (!d)
        return errno == ENOENT ? NDX_OK
                               : ndx_error(NDX_EIO, "xapian: open %s: %s",
                                           dir.c_str(), strerror(errno));
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        std::string f = dir + "/" + ent->d_name;
        if (unlink(f.c_str()) != 0) {
            int err = errno;
            closedir(d);
            return ndx_error(NDX_EIO, "xapian: remove %s: %s", f.c_str(),
                             strerror(err));
        }
    }
    closedir(d);
    if (rmdir(dir.c_str()) != 0)
        return ndx_error(NDX_EIO, "xapian: remove %s: %s", dir.c_str(),
                         strerror(errno));
    return NDX_OK;
}

/* Whether a directory has entries other than . and .. */
bool
dir_has_entries(const std::string &path)
{
    DIR *d = opendir(path.c_str());
    struct dirent *ent;
    bool any = false;

    if (!d)
        return false;
    while (!any && (ent = readdir(d)) != NULL)
        any = strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0;
    closedir(d);
    return any;
}

uint64_t
generation_of(const Xapian::Database &db)
{
    std::string g = db.get_metadata(GEN_KEY);
    return g.empty() ? 0 : strtoull(g.c_str(), NULL, 10);
}

/* ---- remote shards ------------------------------------------------------ */

ndx_status
parse_remote(const char *spec, remote_shard &r)
{
    std::string s(spec ? spec : "");
    std::string rest = s.compare(0, 4, "tcp:") == 0 ? s.substr(4) : s;
    size_t colon = rest.rfind(':');
    char *end = NULL;
    unsigned long port;

    if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size())
        goto bad;
    errno = 0;
    port = strtoul(rest.c_str() + colon + 1, &end, 10);
    if (errno || *end || port == 0 || port > 65535)
        goto bad;
    r.spec = "tcp:" + rest;
    r.host = rest.substr(0, colon);
    if (r.host.size() > 2 && r.host[0] == '[' && r.host.back() == ']')
        r.host = r.host.substr(1, r.host.size() - 2);
    r.port = (unsigned)port;
    r.up = false;
    return NDX_OK;
bad:
    return ndx_error(NDX_EINVAL,
                     "xapian: bad shard address '%s' (want tcp:HOST:PORT)",
                     s.c_str());
}

/*
 * (Re)connects every remote shard and combines those that answer into
 * e->db.  A shard that does not answer is an NDX_EIO error naming it,
 * unless allow_partial, where it is noted in e->down; no shard at all is
 * always an error.
 */
ndx_status
connect_remotes(engine *e)
{
    Xapian::Database all;
    std::vector<std::string> names;
    std::string down;
    std::string first_err;

    for (remote_shard &r : e->remotes) {
        try {
            Xapian::Database one = Xapian::Remote::open(
                r.host, r.port, REMOTE_TIMEOUT_MS, REMOTE_CONNECT_MS);
            (void)one.get_doccount();
            all.add_database(one);
            names.push_back(r.spec);
            r.up = true;
        } catch (const Xapian::Error &x) {
            r.up = false;
            std::string msg = "shard " + r.spec + " is down (" +
                              x.get_description() + ")";
            if (!e->allow_partial)
                return ndx_error(NDX_EIO, "xapian: %s", msg.c_str());
            if (!down.empty())
                down += "; ";
            down += msg;
        }
    }
    if (names.empty())
        return ndx_error(NDX_EIO, "xapian: no shard answered: %s",
                         down.c_str());
    e->db = all;
    e->names = names;
    e->nsub = names.size();
    e->down = down;
    return NDX_OK;
}

/* After a network error: the first remote shard that does not answer. */
std::string
find_down_shard(engine *e)
{
    for (remote_shard &r : e->remotes) {
        if (!r.up)
            continue;
        try {
            Xapian::Database one = Xapian::Remote::open(
                r.host, r.port, REMOTE_TIMEOUT_MS, REMOTE_CONNECT_MS);
            (void)one.get_doccount();
        } catch (...) {
            return r.spec;
        }
    }
    return e->remotes.empty() ? std::string() : std::string("(unknown)");
}

/* ---- open --------------------------------------------------------------- */

ndx_status
open_reader(engine *e, const ndx_engine_config *cfg)
{
    if (cfg && cfg->remote_count) {
        for (size_t i = 0; i < cfg->remote_count; i++) {
            remote_shard r;
            ndx_status st = parse_remote(cfg->remotes[i], r);
            if (st)
                return st;
            e->remotes.push_back(r);
        }
        return connect_remotes(e);
    }

    unsigned shards;
    if (!read_engine_file(e->path, &shards)) {
        if (!is_dir(e->path))
            return ndx_error(NDX_ENOTFOUND, "xapian: no index at %s",
                             e->path.c_str());
        return ndx_error(NDX_ENOTFOUND,
                         "xapian: %s is not a xapian index (no ENGINE file)",
                         e->path.c_str());
    }
    if (shards == 0)
        return ndx_error(NDX_ECORRUPT, "xapian: %s: no database in the index",
                         e->path.c_str());
    Xapian::Database all;
    for (unsigned i = 0; i < shards; i++) {
        std::string dir = shard_dir(e->path, i, shards);
        try {
            all.add_database(Xapian::Database(dir));
        } catch (...) {
            return fail("open", dir);
        }
        e->names.push_back(dir);
    }
    e->db = all;
    e->nsub = shards;
    return NDX_OK;
}

ndx_status
open_writer(engine *e, unsigned flags, const ndx_engine_config *cfg)
{
    unsigned want = cfg && cfg->shards ? cfg->shards : 1;
    unsigned have = 0;
    bool add = (flags & NDX_OPEN_ADD) != 0;
    ndx_status st;

    if (cfg && cfg->remote_count)
        return ndx_error(NDX_ENOTSUP,
                         "xapian: remote shards are searched, not written; "
                         "index each shard locally and serve it with "
                         "xapian-tcpsrv");
    if (want > NDX_XAPIAN_SHARDS_MAX)
        return ndx_error(NDX_EINVAL, "xapian: %u shards asked, at most %u",
                         want, NDX_XAPIAN_SHARDS_MAX);
    if (mkdir(e->path.c_str(), 0755) != 0 && errno != EEXIST)
        return ndx_error(NDX_EIO, "xapian: create %s: %s", e->path.c_str(),
                         strerror(errno));
    if (!is_dir(e->path))
        return ndx_error(NDX_EINVAL, "xapian: %s is not a directory",
                         e->path.c_str());
    if (!read_engine_file(e->path, &have)) {
        if (dir_has_entries(e->path))
            return ndx_error(NDX_EINVAL,
                             "xapian: %s holds files but no xapian index; "
                             "give an empty or new directory",
                             e->path.c_str());
        have = 0;
    }
    unsigned n = (add && have) ? have : want;
    if (have && have != n) {
        /* A new layout replaces the old one: take each old shard's lock
         * first so that a running writer is not pulled from under. */
        for (unsigned i = 0; i < have; i++) {
            std::string dir = shard_dir(e->path, i, have);
            try {
                Xapian::WritableDatabase w(dir, Xapian::DB_OPEN);
                w.close();
            } catch (const Xapian::DatabaseNotFoundError &) {
                /* already gone */
            } catch (...) {
                return fail("open", dir);
            }
        }
        for (unsigned i = 0; i < have; i++)
            if ((st = remove_db_dir(shard_dir(e->path, i, have))) != NDX_OK)
                return st;
        have = 0;
    }
    Xapian::Database all;
    for (unsigned i = 0; i < n; i++) {
        std::string dir = shard_dir(e->path, i, n);
        try {
            Xapian::WritableDatabase w(dir, Xapian::DB_CREATE_OR_OPEN |
                                                Xapian::DB_BACKEND_GLASS);
            Xapian::docid last = w.get_lastdocid();
            if (last >= e->next_ordinal)
                e->next_ordinal = last + 1;
            e->generation = std::max(e->generation, generation_of(w));
            e->writers.push_back(w);
            all.add_database(w);
            e->names.push_back(dir);
        } catch (...) {
            return fail("open", dir);
        }
    }
    if ((st = write_engine_file(e->path, n)) != NDX_OK)
        return st;
    try {
        /* One unflushed transaction per shard for the whole session:
         * nothing is visible to readers, even past Xapian's automatic
         * flush, until commit(). */
        for (Xapian::WritableDatabase &w : e->writers)
            w.begin_transaction(false);
        e->in_txn = true;
        if (!add) {
            /* Replace the content on commit: drop every document now,
             * inside the transaction. */
            for (Xapian::WritableDatabase &w : e->writers) {
                std::vector<Xapian::docid> ids;
                for (Xapian::PostingIterator p = w.postlist_begin("");
                     p != w.postlist_end(""); ++p)
                    ids.push_back(*p);
                for (Xapian::docid did : ids)
                    w.delete_document(did);
            }
        }
    } catch (...) {
        return fail("open", e->path);
    }
    e->db = all;
    e->nsub = n;
    e->writing = true;
    return NDX_OK;
}

/* ---- query translation ------------------------------------------------- */

/*
 * A prefix as an OR of every term that starts with it, each term with its
 * own statistics, as Xapian's OP_WILDCARD with the OP_OR combiner scores
 * it in one database.  The expansion is done here over all shards at once
 * because Xapian 1.4 expands a wildcard shard by shard, and then the
 * expanded terms' statistics (and so the scores) differ from one database.
 */
Xapian::Query
expand_prefix(const Xapian::Database &db, const std::string &prefix)
{
    std::vector<Xapian::Query> terms;

    for (Xapian::TermIterator t = db.allterms_begin(prefix);
         t != db.allterms_end(prefix); ++t) {
        if (terms.size() == PREFIX_EXPANSIONS_MAX)
            throw Xapian::WildcardError("prefix " + prefix +
                                        "* expands to more than " +
                                        std::to_string(PREFIX_EXPANSIONS_MAX) +
                                        " terms");
        terms.emplace_back(*t);
    }
    if (terms.empty())
        return Xapian::Query::MatchNothing;
    return Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
}

Xapian::Query
translate(const Xapian::Database &db, const ndx_qnode *n)
{
    if (!n)
        throw bad_query{"empty query node"};
    switch (n->kind) {
    case NDX_Q_TERM:
        if (n->term_count < 1 || !n->terms[0] || !n->terms[0][0])
            throw bad_query{"term node without a term"};
        return Xapian::Query(n->terms[0], n->wqf ? n->wqf : 1);
    case NDX_Q_PHRASE: {
        if (n->term_count < 1)
            throw bad_query{"phrase node without terms"};
        if (n->term_count == 1)
            return Xapian::Query(n->terms[0]);
        std::vector<Xapian::Query> kids;
        for (size_t i = 0; i < n->term_count; i++)
            kids.emplace_back(n->terms[i]);
        return Xapian::Query(Xapian::Query::OP_PHRASE, kids.begin(),
                             kids.end(), (Xapian::termcount)n->term_count);
    }
    case NDX_Q_PREFIX: {
        if (n->term_count < 1 || !n->terms[0] || !n->terms[0][0])
            throw bad_query{"prefix node without a prefix"};
        std::string prefix = n->title ? std::string("T") : std::string();
        prefix += n->terms[0];
        return expand_prefix(db, prefix);
    }
    case NDX_Q_AND:
    case NDX_Q_OR: {
        if (n->kid_count < 1)
            throw bad_query{"AND/OR node without children"};
        if (n->kid_count == 1)
            return translate(db, n->kids[0]);
        std::vector<Xapian::Query> kids;
        for (size_t i = 0; i < n->kid_count; i++)
            kids.push_back(translate(db, n->kids[i]));
        return Xapian::Query(n->kind == NDX_Q_AND ? Xapian::Query::OP_AND
                                                  : Xapian::Query::OP_OR,
                             kids.begin(), kids.end());
    }
    case NDX_Q_NOT:
        if (n->kid_count != 2)
            throw bad_query{"NOT node without exactly two children"};
        return Xapian::Query(Xapian::Query::OP_AND_NOT,
                             translate(db, n->kids[0]),
                             translate(db, n->kids[1]));
    case NDX_Q_ALL:
        return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                             Xapian::Query::MatchAll, 0.0);
    case NDX_Q_SYN: {
        /* Name variants: one term whose wdf is the sum of theirs. */
        if (n->term_count < 1)
            throw bad_query{"synonym node without terms"};
        std::vector<Xapian::Query> kids;
        for (size_t i = 0; i < n->term_count; i++)
            kids.emplace_back(n->terms[i]);
        return Xapian::Query(Xapian::Query::OP_SYNONYM, kids.begin(),
                             kids.end());
    }
    }
    throw bad_query{"unknown query node kind"};
}

Xapian::Query
sources_filter(const char *const *names, size_t count, bool are_keys)
{
    std::vector<Xapian::Query> kids;

    for (size_t i = 0; i < count; i++) {
        std::string key = are_keys ? std::string(names[i] ? names[i] : "")
                                   : source_key(names[i]);
        kids.emplace_back("K" + key);
    }
    return Xapian::Query(Xapian::Query::OP_OR, kids.begin(), kids.end());
}

/* The dates a search keeps: the intersection of the query's range and
 * the options'. */
void
date_range(const ndx_query *q, const ndx_search_opts *o, int32_t *from,
           int32_t *to)
{
    *from = q->from_days;
    *to = q->to_days;
    if (o->from_days != NDX_DATE_NONE &&
        (*from == NDX_DATE_NONE || o->from_days > *from))
        *from = o->from_days;
    if (o->to_days != NDX_DATE_NONE &&
        (*to == NDX_DATE_NONE || o->to_days < *to))
        *to = o->to_days;
}

/* The whole query: the tree, filtered by sources and dates (OP_FILTER, so
 * filters never change a score). */
Xapian::Query
build_query(const Xapian::Database &db, const ndx_query *q,
            const ndx_search_opts *o)
{
    Xapian::Query main = translate(db, q->root);
    std::vector<Xapian::Query> filters;

    if (q->source_count)
        filters.push_back(sources_filter(q->sources, q->source_count, true));
    if (o->source_count)
        filters.push_back(sources_filter(o->sources, o->source_count, false));

    int32_t from, to;
    date_range(q, o, &from, &to);
    if (from != NDX_DATE_NONE && to != NDX_DATE_NONE) {
        if (from > to)
            return Xapian::Query::MatchNothing;
        filters.emplace_back(Xapian::Query::OP_VALUE_RANGE, SLOT_DATE,
                             Xapian::sortable_serialise(from),
                             Xapian::sortable_serialise(to));
    } else if (from != NDX_DATE_NONE) {
        filters.emplace_back(Xapian::Query::OP_VALUE_GE, SLOT_DATE,
                             Xapian::sortable_serialise(from));
    } else if (to != NDX_DATE_NONE) {
        filters.emplace_back(Xapian::Query::OP_VALUE_LE, SLOT_DATE,
                             Xapian::sortable_serialise(to));
    }
    if (filters.empty())
        return main;
    Xapian::Query f = filters.size() == 1
                          ? filters[0]
                          : Xapian::Query(Xapian::Query::OP_AND,
                                          filters.begin(), filters.end());
    return Xapian::Query(Xapian::Query::OP_FILTER, main, f);
}

/* ---- facets ------------------------------------------------------------- */

/* The article table of the facets (see struct engine), built or rebuilt
 * when the database is not the one it was built from. */
void
facet_table(engine *e)
{
    Xapian::Database &db = e->db;
    uint64_t gen = generation_of(db);
    Xapian::doccount docs = db.get_doccount();
    Xapian::docid last = db.get_lastdocid();

    if (e->fac_ok && e->fac_gen == gen && e->fac_docs == docs &&
        e->fac_last == last)
        return;
    e->fac_ok = false;
    e->fac_names.clear();
    e->fac_keys.clear();
    e->fac_firsts.clear();
    e->fac_src.assign((size_t)last + 1, UINT32_MAX);
    e->fac_days.assign((size_t)last + 1, NDX_DATE_NONE);
    for (Xapian::TermIterator t = db.allterms_begin("XS");
         t != db.allterms_end("XS"); ++t) {
        uint32_t idx = (uint32_t)e->fac_names.size();
        e->fac_names.push_back((*t).substr(2));
        e->fac_keys.push_back(source_key(e->fac_names.back().c_str()));
        for (Xapian::PostingIterator p = db.postlist_begin(*t);
             p != db.postlist_end(*t); ++p)
            if (*p <= last) {
                e->fac_src[*p] = idx;
                e->fac_firsts.push_back(*p);
            }
    }
    std::sort(e->fac_firsts.begin(), e->fac_firsts.end());
    for (Xapian::TermIterator t = db.allterms_begin("XD");
         t != db.allterms_end("XD"); ++t) {
        int32_t days = value_days((*t).substr(2));
        for (Xapian::PostingIterator p = db.postlist_begin(*t);
             p != db.postlist_end(*t); ++p)
            if (*p <= last)
                e->fac_days[*p] = days;
    }
    e->fac_gen = gen;
    e->fac_docs = docs;
    e->fac_last = last;
    e->fac_ok = true;
}

/* Sees every matching passage and keeps the first passage of each
 * article once.  It runs in this process only: a remote shard would need
 * it registered in xapian-tcpsrv. */
class facet_spy : public Xapian::MatchSpy {
  public:
    explicit facet_spy(const engine *eng)
        : e(eng), seen(eng->fac_src.size(), 0) {}
    void operator()(const Xapian::Document &doc, double) override
    {
        Xapian::docid did = doc.get_docid();
        uint64_t back = (uint64_t)value_passage(doc.get_value(SLOT_PASSAGE)) *
                        e->nsub;

        if (back >= did)
            return;
        Xapian::docid first = did - (Xapian::docid)back;
        if (first < seen.size() && !seen[first]) {
            seen[first] = 1;
            firsts.push_back(first);
        }
    }
    const engine *e;
    std::vector<uint8_t> seen;
    std::vector<Xapian::docid> firsts;
};

/* Hands the facet counts to the results: matching articles (the spy's)
 * by source and day, and every article passing the filters by day. */
ndx_status
facet_counts(engine *e, const facet_spy &spy, const ndx_query *q,
             const ndx_search_opts *o, ndx_results *into)
{
    std::vector<uint64_t> src(e->fac_names.size(), 0);
    std::map<int32_t, std::pair<uint64_t, uint64_t>> days;
    std::vector<uint8_t> allowed(e->fac_names.size(), 1);
    bool dates = o->facets & (NDX_FACET_YEAR | NDX_FACET_MONTH |
                              NDX_FACET_DAY);
    ndx_status st;

    for (Xapian::docid d : spy.firsts) {
        if (e->fac_src[d] == UINT32_MAX)
            continue;
        src[e->fac_src[d]]++;
        if (dates)
            days[e->fac_days[d]].first++;
    }
    if (o->facets & NDX_FACET_SOURCE)
        for (size_t i = 0; i < src.size(); i++)
            if (src[i] && (st = ndx_results_facet_source(
                               into, e->fac_names[i].c_str(), src[i])))
                return st;
    if (!dates)
        return NDX_OK;

    /* Coverage: the filters as build_query applies them. */
    std::vector<std::string> opt_keys;
    for (size_t i = 0; i < o->source_count; i++)
        opt_keys.push_back(source_key(o->sources[i]));
    for (size_t i = 0; i < allowed.size(); i++) {
        const std::string &k = e->fac_keys[i];
        bool in_q = !q->source_count, in_o = opt_keys.empty();
        for (size_t j = 0; j < q->source_count; j++)
            in_q = in_q || k == q->sources[j];
        for (const std::string &ok : opt_keys)
            in_o = in_o || k == ok;
        allowed[i] = in_q && in_o;
    }
    int32_t from, to;
    date_range(q, o, &from, &to);
    for (Xapian::docid d : e->fac_firsts) {
        int32_t day = e->fac_days[d];
        if (!allowed[e->fac_src[d]])
            continue;
        if (day == NDX_DATE_NONE ? from != NDX_DATE_NONE || to != NDX_DATE_NONE
                                 : (from != NDX_DATE_NONE && day < from) ||
                                       (to != NDX_DATE_NONE && day > to))
            continue;
        days[day].second++;
    }
    for (const auto &kv : days)
        if ((st = ndx_results_facet_day(into, kv.first, kv.second.first,
                                        kv.second.second)))
            return st;
    return NDX_OK;
}

/* ---- search ------------------------------------------------------------- */

struct hit_data {
    std::string article, source, title, url, text;
    uint32_t passage;
    double score;
    int32_t date_days;
    uint32_t matches;
    uint64_t order;
};

struct article_fields {
    std::string source, title, url;
};

/* Source, title and url of an article, from its first passage: that is
 * docid - passage * nsub, as an article's passages have consecutive
 * ordinals in one shard; the "Q" term is the fallback. */
void
load_article_fields(engine *e, Xapian::docid did, uint32_t passage,
                    const std::string &article, article_fields &out)
{
    passage_data pd;
    Xapian::docid step = (Xapian::docid)e->nsub;

    if ((uint64_t)passage * step < did) {
        Xapian::docid first = did - passage * step;
        try {
            Xapian::Document d = e->db.get_document(first);
            if (d.get_value(SLOT_ARTICLE) == article &&
                d.get_value(SLOT_PASSAGE) == "0" &&
                decode_data(d.get_data(), pd) && pd.first) {
                out.source = pd.source;
                out.title = pd.title;
                out.url = pd.url;
                return;
            }
        } catch (const Xapian::DocNotFoundError &) {
            /* fall through to the term */
        }
    }
    std::string qt = id_term(article.c_str());
    for (Xapian::PostingIterator p = e->db.postlist_begin(qt);
         p != e->db.postlist_end(qt); ++p) {
        Xapian::Document d = e->db.get_document(*p);
        if (d.get_value(SLOT_ARTICLE) == article &&
            decode_data(d.get_data(), pd) && pd.first) {
            out.source = pd.source;
            out.title = pd.title;
            out.url = pd.url;
            return;
        }
    }
    throw Xapian::DatabaseCorruptError("article " + article +
                                       " has no first passage");
}

/* ---- keyset paging (ndx_search_opts.after) ------------------------------ */

/* 1 when item m of an MSet ranks after the key, in the order the Enquire
 * sorts by (date then relevance, or relevance; then docid, which is the
 * passage ordinal's order). */
bool
after_key(const engine *e, const ndx_search_opts *o, Xapian::MSetIterator m)
{
    const ndx_search_key *k = o->after;
    uint64_t order = (uint64_t)(*m - 1) / e->nsub + 1;
    double score = m.get_weight();

    if (o->sort != NDX_SORT_RELEVANCE) {
        int32_t d = value_days(m.get_document().get_value(SLOT_DATE));
        if (d != k->date_days)
            return o->sort == NDX_SORT_NEWEST ? d < k->date_days
                                              : d > k->date_days;
    }
    if (score != k->score)
        return score < k->score;
    return order > k->order;
}

/*
 * Xapian has no keyset paging: the MSet is taken from the start, in a
 * window that grows fourfold until it holds first + want items after the
 * key or the matches end.  The items after the key are a suffix of the
 * MSet (it is in the key's order); *skip receives where it starts.  A
 * page far in thus costs what offset paging does here.
 */
Xapian::MSet
mset_after(engine *e, Xapian::Enquire &enq, const ndx_search_opts *o,
           Xapian::doccount docs, Xapian::doccount first,
           Xapian::doccount want, Xapian::doccount check,
           Xapian::doccount *skip)
{
    Xapian::doccount win = first + want + AFTER_WINDOW_MIN;

    for (;;) {
        if (win > docs)
            win = docs;
        Xapian::MSet ms = enq.get_mset(0, win, check > win ? check : win);
        Xapian::doccount lo = 0, hi = ms.size();
        while (lo < hi) {
            Xapian::doccount mid = lo + (hi - lo) / 2;
            if (after_key(e, o, ms[mid]))
                hi = mid;
            else
                lo = mid + 1;
        }
        *skip = lo;
        if (ms.size() - lo >= first + want || ms.size() < win || win == docs)
            return ms;
        win = win > docs / 4 ? docs : win * 4;
    }
}

/* Runs one search into hits; throws on Xapian errors. */
void
run_search(engine *e, const Xapian::Query &query, const ndx_search_opts *o,
           std::vector<hit_data> &hits, uint64_t &total, bool &exact,
           facet_spy *fspy)
{
    Xapian::doccount docs = e->db.get_doccount();
    bool by_article = o->group == NDX_GROUP_ARTICLE;

    hits.clear();
    total = 0;
    exact = true;
    if (docs == 0)
        return;

    /* With exact_total or facets the spy sees every matching passage (check_at_least
     * is then the whole database, so the matcher skips none), also on
     * remote shards: it gives exact per-article counts and totals.
     * Otherwise the matcher checks at least exact_upto items and may skip
     * the rest (its own pruning); the total is then Xapian's lower bound
     * and the hits' articles are counted by a second, filtered match. */
    bool spying = o->exact_total || fspy;
    Xapian::ValueCountMatchSpy spy(SLOT_ARTICLE);
    Xapian::Enquire enq(e->db);
    enq.set_query(query);
    enq.set_weighting_scheme(Xapian::BM25Weight(
        o->bm25.k1, o->bm25.k2, o->bm25.k3, o->bm25.b, o->bm25.min_normlen));
    enq.set_docid_order(Xapian::Enquire::ASCENDING);
    switch (o->sort) {
    case NDX_SORT_NEWEST:
        enq.set_sort_by_value_then_relevance(SLOT_DATE, true);
        break;
    case NDX_SORT_OLDEST:
        enq.set_sort_by_value_then_relevance(SLOT_DATE, false);
        break;
    default:
        enq.set_sort_by_relevance();
        break;
    }
    /* By passage, a collapse on the article that never collapses (no
     * article has more passages than the database): with no collapser,
     * Xapian 1.4's matcher has a shortcut for date-sorted items that
     * feeds the match spy again with items a remote shard already spied,
     * and the counts come out too high. */
    enq.set_collapse_key(SLOT_ARTICLE, by_article ? 1 : docs);
    if (spying)
        enq.add_matchspy(&spy);
    if (fspy)
        enq.add_matchspy(fspy);
    if (o->budget_ms > 0 && e->remotes.empty())
        enq.set_time_limit(o->budget_ms / 1000.0);

    Xapian::doccount first =
        o->offset > docs ? docs : (Xapian::doccount)o->offset;
    Xapian::doccount want = o->k > docs ? docs : (Xapian::doccount)o->k;
    Xapian::doccount check = docs;
    if (!spying) {
        uint64_t upto = o->exact_upto + (uint64_t)first + want;
        check = upto < docs ? (Xapian::doccount)upto : docs;
    }
    Xapian::doccount skip = 0;
    Xapian::MSet mset = o->after ? mset_after(e, enq, o, docs, first, want,
                                              check, &skip)
                                 : enq.get_mset(first, want, check);
    Xapian::doccount at = 0;

    std::unordered_map<std::string, uint32_t> counts;
    std::unordered_map<std::string, article_fields> fields;
    for (Xapian::MSetIterator m = mset.begin(); m != mset.end(); ++m) {
        /* After a key: its first items, the offset, then want. */
        if (o->after && at++ < skip + first)
            continue;
        if (o->after && hits.size() == want)
            break;
        Xapian::Document d = m.get_document();
        hit_data h;
        h.article = d.get_value(SLOT_ARTICLE);
        counts.emplace(h.article, 0);
        h.passage = value_passage(d.get_value(SLOT_PASSAGE));
        h.score = m.get_weight();
        h.date_days = value_days(d.get_value(SLOT_DATE));
        h.order = (uint64_t)(*m - 1) / e->nsub + 1;
        passage_data pd;
        if (!decode_data(d.get_data(), pd))
            throw Xapian::DatabaseCorruptError(
                "stored data of passage " + std::to_string(h.passage) +
                " of article " + h.article + " is damaged");
        h.text = pd.text;
        if (pd.first) {
            h.source = pd.source;
            h.title = pd.title;
            h.url = pd.url;
        }
        h.matches = 0;
        if (!pd.first) {
            auto it = fields.find(h.article);
            if (it == fields.end()) {
                article_fields af;
                load_article_fields(e, *m, h.passage, h.article, af);
                it = fields.emplace(h.article, af).first;
            }
            h.source = it->second.source;
            h.title = it->second.title;
            h.url = it->second.url;
        } else {
            fields.emplace(h.article,
                           article_fields{pd.source, pd.title, pd.url});
        }
        hits.push_back(h);
    }

    if (spying) {
        uint64_t articles = 0;
        for (Xapian::TermIterator v = spy.values_begin();
             v != spy.values_end(); ++v) {
            articles++;
            auto it = counts.find(*v);
            if (it != counts.end())
                it->second = v.get_termfreq();
        }
        for (hit_data &h : hits)
            h.matches = counts[h.article];
        total = by_article ? articles : spy.get_total();
        return;
    }
    /* The lower and upper bounds meet when every match was checked. */
    total = mset.get_matches_lower_bound();
    exact = total == mset.get_matches_upper_bound();
    if (!exact && total < o->exact_upto) {
        /* The bounds did not meet below the threshold (collapsing on the
         * article keeps only the page's items, so the matcher may not
         * know how many articles it saw): the total may be under
         * exact_upto, where it must be exact, so count every match. */
        ndx_search_opts all = *o;

        all.exact_total = 1;
        run_search(e, query, &all, hits, total, exact, fspy);
        return;
    }
    if (hits.empty())
        return;
    std::vector<Xapian::Query> ids;
    for (auto &c : counts)
        ids.push_back(Xapian::Query(id_term(c.first.c_str())));
    Xapian::ValueCountMatchSpy hspy(SLOT_ARTICLE);
    Xapian::Enquire henq(e->db);
    henq.set_query(Xapian::Query(Xapian::Query::OP_FILTER, query,
                                 Xapian::Query(Xapian::Query::OP_OR,
                                               ids.begin(), ids.end())));
    henq.set_weighting_scheme(Xapian::BoolWeight());
    henq.add_matchspy(&hspy);
    henq.get_mset(0, 0, docs);
    for (Xapian::TermIterator v = hspy.values_begin();
         v != hspy.values_end(); ++v) {
        auto it = counts.find(*v);
        if (it != counts.end())
            it->second = v.get_termfreq();
    }
    for (hit_data &h : hits)
        h.matches = counts[h.article];
}

/* ---- the engine table --------------------------------------------------- */

int
x_probe(const char *path)
{
    unsigned shards;

    if (!path)
        return 0;
    try {
        return read_engine_file(path, &shards);
    } catch (...) {
        return 0;
    }
}

void x_close(void *ve);

ndx_status
x_open(void **out, const char *path, unsigned flags,
       const ndx_engine_config *cfg)
{
    engine *e = NULL;
    ndx_status st;

    *out = NULL;
    try {
        e = new engine;
        ndx_termset_init(&e->ts);
        e->path = path ? path : "";
        e->allow_partial = cfg && cfg->allow_partial;
        if (flags & NDX_OPEN_WRITE) {
            if (e->path.empty()) {
                st = ndx_error(NDX_EINVAL, "xapian: open: no index path");
                goto fail;
            }
            st = open_writer(e, flags, cfg);
        } else {
            if (e->path.empty() && !(cfg && cfg->remote_count)) {
                st = ndx_error(NDX_EINVAL, "xapian: open: no index path");
                goto fail;
            }
            st = open_reader(e, cfg);
        }
        if (st != NDX_OK)
            goto fail;
    } catch (...) {
        st = fail("open", path ? path : "");
        goto fail;
    }
    *out = e;
    return NDX_OK;
fail:
    x_close(e);
    return st;
}

/*
 * Adds an article: one document per passage, built from given[i] when the
 * front analyzed the passages already, else from a term set built here
 * with analyzer an.  The old copy of the article is deleted first.
 */
ndx_status
add_article(engine *e, const ndx_article *a, const ndx_passages *p,
            ndx_analyzer *an, const ndx_termset *given)
{
    if (!e->writing)
        return ndx_error(NDX_EINVAL, "xapian: add: index opened for reading");
    if (!a || !a->id || !a->id[0])
        return ndx_error(NDX_EINVAL, "xapian: add: article without an id");
    try {
        size_t id_len = strlen(a->id);
        unsigned shard = ndx_xapian_shard_of(a->id, id_len,
                                             (unsigned)e->writers.size());
        std::string qterm = id_term(a->id);
        std::string kterm = "K" + source_key(a->source);
        const char *src = a->source ? a->source : "unknown";
        const char *title = a->title && a->title[0] ? a->title : NULL;
        size_t count = p ? p->count : 0;
        std::vector<Xapian::Document> docs(count);

        if ((uint64_t)e->next_ordinal + count > 0xffffffffULL)
            return ndx_error(NDX_ELIMIT,
                             "xapian: add %s: more than 4294967295 passages "
                             "in one index", a->id);
        for (size_t i = 0; i < count; i++) {
            const ndx_span &sp = p->items[i];
            const ndx_termset *ts = given ? &given[i] : &e->ts;
            if ((size_t)sp.off + sp.len > a->text_len)
                return ndx_error(NDX_EINVAL,
                                 "xapian: add %s: passage %zu lies outside "
                                 "the text", a->id, i);
            const char *text = a->text + sp.off;
            if (!given) {
                ndx_status st = ndx_termset_build(
                    &e->ts, an, i == 0 ? title : NULL,
                    i == 0 && title ? strlen(title) : 0, text, sp.len);
                if (st != NDX_OK)
                    return st;
            }

            Xapian::Document &doc = docs[i];
            for (size_t t = 0; t < ts->term_count; t++) {
                const ndx_term &term = ts->terms[t];
                std::string name(term.term, term.term_len);
                for (uint32_t j = 0; j < term.pos_count; j++)
                    doc.add_posting(name, ts->positions[term.pos_off + j], 0);
                doc.add_term(name, term.wdf);
            }
            doc.add_boolean_term(qterm);
            doc.add_boolean_term(kterm);
            if (i == 0) {
                doc.add_boolean_term("XA");
                doc.add_boolean_term("XS" + utf8_cut(src, TERM_BYTES_MAX));
                if (a->date_days == NDX_DATE_NONE)
                    doc.add_boolean_term("XU");
                else
                    doc.add_boolean_term(
                        "XD" + Xapian::sortable_serialise(a->date_days));
            }
            if (a->date_days != NDX_DATE_NONE)
                doc.add_value(SLOT_DATE,
                              Xapian::sortable_serialise(a->date_days));
            doc.add_value(SLOT_ARTICLE, std::string(a->id, id_len));
            doc.add_value(SLOT_PASSAGE, std::to_string(i));
            doc.set_data(encode_data(a, i == 0, text, sp.len));
        }

        Xapian::WritableDatabase &w = e->writers[shard];
        w.delete_document(qterm);
        for (Xapian::Document &doc : docs)
            w.replace_document(e->next_ordinal++, doc);
    } catch (...) {
        return fail("add", a->id);
    }
    return NDX_OK;
}

ndx_status
x_add(void *ve, const ndx_article *a, const ndx_passages *p,
      ndx_analyzer *an)
{
    return add_article(static_cast<engine *>(ve), a, p, an, NULL);
}

ndx_status
x_add_analyzed(void *ve, const ndx_article *a, const ndx_passages *p,
               const ndx_termset *ts)
{
    if (p && p->count && !ts)
        return ndx_error(NDX_EINVAL, "xapian: add: no term sets");
    return add_article(static_cast<engine *>(ve), a, p, NULL, ts);
}

/* Deletes an article's documents (in its shard); NDX_ENOTFOUND when the
 * shard holds none, counting what this writer added and deleted since
 * its last commit. */
ndx_status
x_remove(void *ve, const char *article_id)
{
    engine *e = static_cast<engine *>(ve);

    if (!e->writing)
        return ndx_error(NDX_EINVAL,
                         "xapian: delete: index opened for reading");
    try {
        unsigned shard = ndx_xapian_shard_of(
            article_id, strlen(article_id), (unsigned)e->writers.size());
        std::string qterm = id_term(article_id);
        Xapian::WritableDatabase &w = e->writers[shard];

        if (!w.term_exists(qterm))
            return ndx_error(NDX_ENOTFOUND, "no article with id '%s'",
                             article_id);
        w.delete_document(qterm);
    } catch (...) {
        return fail("delete", article_id);
    }
    return NDX_OK;
}

ndx_status
x_commit(void *ve)
{
    engine *e = static_cast<engine *>(ve);
    size_t i = 0;

    if (!e->writing)
        return ndx_error(NDX_EINVAL,
                         "xapian: commit: index opened for reading");
    try {
        std::string gen = std::to_string(e->generation + 1);
        for (i = 0; i < e->writers.size(); i++) {
            Xapian::WritableDatabase &w = e->writers[i];
            w.set_metadata(GEN_KEY, gen);
            w.commit_transaction();
            w.commit();
            w.begin_transaction(false);
        }
        e->generation++;
    } catch (...) {
        e->in_txn = false;
        return fail("commit", i < e->names.size() ? e->names[i] : e->path);
    }
    return NDX_OK;
}

ndx_status
x_search(void *ve, const ndx_query *q, const ndx_search_opts *opts,
         ndx_results *into)
{
    engine *e = static_cast<engine *>(ve);
    double t0 = now_ms();
    ndx_search_opts defaults;
    const ndx_search_opts *o = opts;
    std::vector<hit_data> hits;
    uint64_t total = 0;
    bool exact = true;

    if (!q || !q->root || !into)
        return ndx_error(NDX_EINVAL, "xapian: search: no query");
    if (!o) {
        ndx_search_opts_init(&defaults);
        o = &defaults;
    }
    try {
        for (int attempt = 0;; attempt++) {
            try {
                /* Built against the current shards: a prefix expands over
                 * their terms. */
                Xapian::Query query = build_query(e->db, q, o);
                if (!o->facets) {
                    run_search(e, query, o, hits, total, exact, NULL);
                    break;
                }
                if (!e->remotes.empty())
                    return ndx_error(NDX_ENOTSUP,
                                     "xapian: facets are not counted over "
                                     "remote shards; search the shards' "
                                     "databases directly");
                facet_table(e);
                facet_spy fspy(e);
                run_search(e, query, o, hits, total, exact, &fspy);
                ndx_status st = facet_counts(e, fspy, q, o, into);
                if (st != NDX_OK)
                    return st;
                break;
            } catch (const Xapian::DatabaseModifiedError &) {
                /* Writers committed twice since this reader opened: move
                 * to the newest commit and run again, once. */
                if (attempt > 0)
                    throw;
                e->db.reopen();
            } catch (const Xapian::NetworkError &x) {
                /* A shard restarted or went down: connect again once (a
                 * shard that stays down is then named, or left out with
                 * allow_partial), and retry. */
                if (e->remotes.empty() || attempt > 0)
                    return say(NDX_EIO, "search: shard",
                               e->remotes.empty() ? e->path
                                                  : find_down_shard(e),
                               x.get_description().c_str());
                ndx_status st = connect_remotes(e);
                if (st != NDX_OK)
                    return st;
            }
        }
    } catch (const bad_query &b) {
        return ndx_error(NDX_EINVAL, "xapian: search: %s", b.msg.c_str());
    } catch (...) {
        return fail("search", e->remotes.empty() ? e->path : "shards");
    }

    double took = now_ms() - t0;
    if (o->budget_ms > 0 && took > o->budget_ms)
        return ndx_error(NDX_ETIMEOUT,
                         "xapian: search took %.1f ms, over its budget of "
                         "%.1f ms", took, o->budget_ms);
    for (const hit_data &h : hits) {
        ndx_hit *out = ndx_results_push(into);
        if (!out)
            return ndx_error(NDX_ENOMEM, "xapian: search: out of memory");
        out->article = ndx_results_strdup(into, h.article.data(),
                                          h.article.size());
        out->source = ndx_results_strdup(into, h.source.data(),
                                         h.source.size());
        out->title = ndx_results_strdup(into, h.title.data(), h.title.size());
        out->url = ndx_results_strdup(into, h.url.data(), h.url.size());
        out->text = ndx_results_strdup(into, h.text.data(), h.text.size());
        if (!out->article || !out->source || !out->title || !out->url ||
            !out->text)
            return ndx_error(NDX_ENOMEM, "xapian: search: out of memory");
        out->passage = h.passage;
        out->score = h.score;
        out->date_days = h.date_days;
        out->matches = h.matches;
        out->order = h.order;
    }
    into->total = total;
    into->total_exact = exact;
    if (!e->down.empty()) {
        into->partial = 1;
        into->warning = ndx_results_strdup(into, e->down.data(),
                                           e->down.size());
    }
    into->took_ms = now_ms() - t0;
    return NDX_OK;
}

char *
dup_c(const std::string &s)
{
    char *p = static_cast<char *>(malloc(s.size() + 1));
    if (p) {
        memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

ndx_status x_get_once(engine *e, const char *article_id, ndx_doc **out);

ndx_status
x_get(void *ve, const char *article_id, ndx_doc **out)
{
    engine *e = static_cast<engine *>(ve);

    *out = NULL;
    try {
        try {
            return x_get_once(e, article_id, out);
        } catch (const Xapian::DatabaseModifiedError &) {
            e->db.reopen();
        }
        return x_get_once(e, article_id, out);
    } catch (...) {
        return fail("get", article_id ? article_id : "");
    }
}

/* Every passage's stored text, in docid order (an article's passages are
 * added together, so they come together). */
int
x_each_passage(void *ve, ndx_passage_fn fn, void *ctx)
{
    engine *e = static_cast<engine *>(ve);

    try {
        for (Xapian::PostingIterator p = e->db.postlist_begin("");
             p != e->db.postlist_end(""); ++p) {
            Xapian::Document doc = e->db.get_document(*p);
            passage_data pd;
            if (!decode_data(doc.get_data(), pd))
                return ndx_error(NDX_ECORRUPT,
                                 "xapian: document %u: stored data is "
                                 "damaged", (unsigned)*p);
            std::string article = doc.get_value(SLOT_ARTICLE);
            int rc = fn(ctx, article.c_str(), pd.text.data(),
                        pd.text.size());
            if (rc)
                return rc;
        }
    } catch (...) {
        return fail("list passages", "");
    }
    return 0;
}

/* One attempt at get; lets DatabaseModifiedError through to x_get. */
ndx_status
x_get_once(engine *e, const char *article_id, ndx_doc **out)
{
    ndx_doc *d = NULL;

    *out = NULL;
    if (!article_id)
        return ndx_error(NDX_EINVAL, "xapian: get: no article id");
    try {
        std::string qt = id_term(article_id);
        std::map<uint32_t, passage_data> parts;
        passage_data head;
        bool have_head = false;

        for (Xapian::PostingIterator p = e->db.postlist_begin(qt);
             p != e->db.postlist_end(qt); ++p) {
            Xapian::Document doc = e->db.get_document(*p);
            if (doc.get_value(SLOT_ARTICLE) != article_id)
                continue;
            passage_data pd;
            uint32_t n = value_passage(doc.get_value(SLOT_PASSAGE));
            if (!decode_data(doc.get_data(), pd))
                return ndx_error(NDX_ECORRUPT,
                                 "xapian: get %s: stored data of passage %u "
                                 "is damaged", article_id, n);
            if (pd.first) {
                head = pd;
                have_head = true;
            }
            parts[n] = pd;
        }
        if (parts.empty())
            return ndx_error(NDX_ENOTFOUND, "xapian: no article with id %s",
                             article_id);
        if (!have_head)
            return ndx_error(NDX_ECORRUPT,
                             "xapian: get %s: the first passage is missing",
                             article_id);
        d = static_cast<ndx_doc *>(calloc(1, sizeof *d));
        if (!d)
            throw std::bad_alloc();
        d->passages = static_cast<char **>(calloc(parts.size(),
                                                  sizeof *d->passages));
        d->id = dup_c(article_id);
        d->source = dup_c(head.source);
        d->title = dup_c(head.title);
        d->url = dup_c(head.url);
        d->date_days = head.date_days;
        if (!d->passages || !d->id || !d->source || !d->title || !d->url)
            throw std::bad_alloc();
        for (auto &kv : parts) {
            d->passages[d->passage_count] = dup_c(kv.second.text);
            if (!d->passages[d->passage_count])
                throw std::bad_alloc();
            d->passage_count++;
        }
    } catch (const Xapian::DatabaseModifiedError &) {
        ndx_doc_free(d);
        throw;
    } catch (...) {
        ndx_doc_free(d);
        return fail("get", article_id);
    }
    *out = d;
    return NDX_OK;
}

/* Bytes of the files of one database directory, by kind. */
void
add_dir_bytes(const std::string &dir, ndx_stats *out)
{
    DIR *d = opendir(dir.c_str());
    struct dirent *ent;

    if (!d)
        return;
    while ((ent = readdir(d)) != NULL) {
        struct stat sb;
        std::string f = dir + "/" + ent->d_name;
        if (stat(f.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        uint64_t n = (uint64_t)sb.st_size;
        if (strncmp(ent->d_name, "postlist.", 9) == 0 ||
            strncmp(ent->d_name, "position.", 9) == 0 ||
            strncmp(ent->d_name, "termlist.", 9) == 0)
            out->bytes_postings += n;
        else if (strncmp(ent->d_name, "docdata.", 8) == 0)
            out->bytes_text += n;
        else
            out->bytes_other += n;
    }
    closedir(d);
}

ndx_status
x_stats(void *ve, ndx_stats *out)
{
    engine *e = static_cast<engine *>(ve);
    ndx_source_count *list = NULL;
    size_t list_len = 0;

    memset(out, 0, sizeof *out);
    out->engine = "xapian";
    out->first_days = out->last_days = NDX_DATE_NONE;
    try {
        Xapian::Database &db = e->db;
        out->generation = generation_of(db);
        out->passages = db.get_doccount();
        out->tokens = db.get_total_length();
        out->articles = db.get_termfreq("XA");
        out->undated = db.get_termfreq("XU");
        out->segments = e->nsub;

        for (Xapian::TermIterator t = db.allterms_begin();
             t != db.allterms_end(); ++t) {
            const std::string &name = *t;
            char c = name.empty() ? 0 : name[0];
            if (c == 'K' || c == 'Q' || c == 'X') {
                /* boolean bookkeeping terms: skip their whole range */
                std::string next(1, (char)(c + 1));
                t.skip_to(next);
                if (t == db.allterms_end())
                    break;
                const std::string &n2 = *t;
                c = n2.empty() ? 0 : n2[0];
                if (c == 'K' || c == 'Q' || c == 'X')
                    continue;
            }
            out->terms++;
        }

        Xapian::TermIterator dt = db.allterms_begin("XD");
        if (dt != db.allterms_end("XD")) {
            std::string lo = *dt, hi = lo;
            for (; dt != db.allterms_end("XD"); ++dt)
                hi = *dt;
            out->first_days = value_days(lo.substr(2));
            out->last_days = value_days(hi.substr(2));
        }

        /* Articles per source, grouped by key, named by the display name
         * with the most articles. */
        struct group {
            uint64_t count = 0;
            std::string name;
            uint64_t best = 0;
        };
        std::map<std::string, group> groups;
        for (Xapian::TermIterator s = db.allterms_begin("XS");
             s != db.allterms_end("XS"); ++s) {
            std::string name = (*s).substr(2);
            uint64_t n = s.get_termfreq();
            group &g = groups[source_key(name.c_str())];
            g.count += n;
            if (n > g.best || (n == g.best && name < g.name)) {
                g.best = n;
                g.name = name;
            }
        }
        std::vector<const group *> order;
        for (auto &kv : groups)
            order.push_back(&kv.second);
        std::sort(order.begin(), order.end(),
                  [](const group *x, const group *y) {
                      if (x->count != y->count)
                          return x->count > y->count;
                      return x->name < y->name;
                  });
        if (!order.empty()) {
            list = static_cast<ndx_source_count *>(
                calloc(order.size(), sizeof *list));
            if (!list)
                throw std::bad_alloc();
            for (const group *g : order) {
                list[list_len].name = dup_c(g->name);
                list[list_len].count = g->count;
                list_len++;
                if (!list[list_len - 1].name)
                    throw std::bad_alloc();
            }
        }
        out->sources = list;
        out->source_count = list_len;
        list = NULL;

        if (e->remotes.empty())
            for (const std::string &dir : e->names)
                add_dir_bytes(dir, out);
    } catch (...) {
        for (size_t i = 0; i < list_len; i++)
            free(list[i].name);
        free(list);
        ndx_stats_clear(out);
        return fail("stats", e->remotes.empty() ? e->path : "shards");
    }
    return NDX_OK;
}

int
x_refresh(void *ve)
{
    engine *e = static_cast<engine *>(ve);

    if (e->writing)
        return 0;
    try {
        if (!e->down.empty()) {
            /* Some shards were down: try them all again. */
            ndx_status st = connect_remotes(e);
            if (st != NDX_OK)
                return st;
            return 1;
        }
        uint64_t before = generation_of(e->db);
        Xapian::doccount docs = e->db.get_doccount();
        if (!e->db.reopen())
            return 0;
        return generation_of(e->db) != before ||
               e->db.get_doccount() != docs;
    } catch (const Xapian::NetworkError &) {
        /* Connect again: a shard that stays down is named (or left out
         * with allow_partial). */
        if (e->remotes.empty())
            return fail("refresh", e->path);
        ndx_status st = connect_remotes(e);
        return st != NDX_OK ? st : 1;
    } catch (...) {
        return fail("refresh", e->path);
    }
}

void
x_close(void *ve)
{
    engine *e = static_cast<engine *>(ve);

    if (!e)
        return;
    for (Xapian::WritableDatabase &w : e->writers) {
        try {
            /* Uncommitted adds are dropped, as the front promises. */
            if (e->in_txn)
                w.cancel_transaction();
        } catch (...) {
        }
        try {
            w.close();
        } catch (...) {
        }
    }
    try {
        e->db.close();
    } catch (...) {
    }
    ndx_termset_free(&e->ts);
    delete e;
}

#if defined(__SANITIZE_ADDRESS__)
#define XAPIAN_CHECKER 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XAPIAN_CHECKER 0
#endif
#endif
#ifndef XAPIAN_CHECKER
#define XAPIAN_CHECKER 1
#endif

/*
 * Reads every table of one shard through the API: each document's data,
 * values, terms and positions, and each term's postings, so that a damaged
 * block anywhere surfaces as an error; and checks that the stored data
 * decodes and every article has its first passage.
 */
ndx_status
walk_shard(const std::string &dir)
{
    Xapian::Database db(dir);
    std::map<std::string, int> heads;
    Xapian::doccount docs = 0;

    for (Xapian::PostingIterator p = db.postlist_begin("");
         p != db.postlist_end(""); ++p) {
        Xapian::Document d = db.get_document(*p);
        passage_data pd;
        std::string article = d.get_value(SLOT_ARTICLE);
        std::string passage = d.get_value(SLOT_PASSAGE);
        Xapian::termcount len = 0;
        if (article.empty() || passage.empty() ||
            !decode_data(d.get_data(), pd) || pd.first != (passage == "0"))
            return ndx_error(NDX_ECORRUPT,
                             "xapian: %s: document %u: stored data or values "
                             "are damaged", dir.c_str(), (unsigned)*p);
        for (Xapian::TermIterator t = d.termlist_begin();
             t != d.termlist_end(); ++t) {
            len += t.get_wdf();
            for (Xapian::PositionIterator q = t.positionlist_begin();
                 q != t.positionlist_end(); ++q)
                (void)*q;
        }
        if (len != db.get_doclength(*p))
            return ndx_error(NDX_ECORRUPT,
                             "xapian: %s: document %u: length %u but its "
                             "terms add up to %u", dir.c_str(), (unsigned)*p,
                             (unsigned)db.get_doclength(*p), (unsigned)len);
        heads[article] |= pd.first ? 1 : 2;
        docs++;
    }
    if (docs != db.get_doccount())
        return ndx_error(NDX_ECORRUPT,
                         "xapian: %s: %u documents listed, %u counted",
                         dir.c_str(), (unsigned)db.get_doccount(),
                         (unsigned)docs);
    for (auto &kv : heads)
        if (!(kv.second & 1))
            return ndx_error(NDX_ECORRUPT,
                             "xapian: %s: article %s has no first passage",
                             dir.c_str(), kv.first.c_str());
    for (Xapian::TermIterator t = db.allterms_begin();
         t != db.allterms_end(); ++t) {
        Xapian::doccount n = 0;
        for (Xapian::PostingIterator p = db.postlist_begin(*t);
             p != db.postlist_end(*t); ++p)
            n++;
        if (n != t.get_termfreq())
            return ndx_error(NDX_ECORRUPT,
                             "xapian: %s: term %s: %u postings, frequency %u",
                             dir.c_str(), (*t).c_str(), (unsigned)n,
                             (unsigned)t.get_termfreq());
    }
    return NDX_OK;
}

/*
 * Verifies every shard: Xapian's own checker (every block of every
 * table), then a walk through every table (walk_shard).  In AddressSanitizer
 * builds only the walk runs: libxapian 1.4's checker frees an object with
 * a mismatched size, which ASan reports as an error.
 */
ndx_status
x_check(const char *path)
{
    unsigned shards;
    std::string dir;

    if (!path || !read_engine_file(path, &shards))
        return ndx_error(NDX_ENOTFOUND, "xapian: no xapian index at %s",
                         path ? path : "(null)");
    if (shards == 0)
        return ndx_error(NDX_ECORRUPT, "xapian: %s: no database in the index",
                         path);
    try {
        for (unsigned i = 0; i < shards; i++) {
            dir = shard_dir(path, i, shards);
            if (XAPIAN_CHECKER) {
                std::ostringstream report;
                size_t errors = Xapian::Database::check(dir, 0, &report);
                if (errors) {
                    std::string first = report.str();
                    size_t nl = first.find('\n');
                    if (nl != std::string::npos)
                        first.resize(nl);
                    return ndx_error(NDX_ECORRUPT,
                                     "xapian: %s: %zu errors (%s)",
                                     dir.c_str(), errors, first.c_str());
                }
            }
            ndx_status st = walk_shard(dir);
            if (st != NDX_OK)
                return st;
        }
    } catch (...) {
        return fail("check", dir);
    }
    return NDX_OK;
}

const ndx_engine_ops xapian_ops = {
    NDX_ENGINE_OPS_VERSION,
    "xapian",
    x_probe,
    x_open,
    x_add,
    x_commit,
    x_search,
    x_get,
    x_stats,
    x_refresh,
    0,
    x_close,
    x_check,
    x_add_analyzed,
    x_remove,
    NULL, /* optimize: Xapian manages its own B-trees */
    x_each_passage,
    NULL, /* commit_warning: nothing runs after a commit */
    NULL, /* memory_outside: Xapian flushes by document count */
};

} // namespace

extern "C" unsigned
ndx_xapian_shard_of(const char *id, size_t id_len, unsigned shards)
{
    if (shards <= 1)
        return 0;
    return (unsigned)(ndx_fnv1a64(id, id_len) % shards);
}

extern "C" const ndx_engine_ops *
ndx_xapian_engine(void)
{
    return &xapian_ops;
}
