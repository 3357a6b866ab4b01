/*
 * xapian_plain.cc - the benchmark's "xapian-plain" peer: libxapian 1.4
 * used directly, configured as its documentation teaches a new user, so
 * that newsdex is measured against Xapian at its best rather than against
 * newsdex's own Xapian engine (core/xapian/), which gives up Xapian's
 * pruning to count every match exactly.  Nothing of newsdex is used here:
 * ndx_bench.c reads the corpus, splits the articles into passages (the
 * same passages every engine indexes) and times the calls.  This file
 * belongs to the benchmark only (built into ndx-bench, never into
 * libnewsdex), which is why it may include <xapian.h> outside core/xapian/.
 *
 * Index: one document per passage, terms from Xapian::TermGenerator with
 * the English Snowball stemmer and its default strategy (STEM_SOME:
 * unstemmed terms with positions plus "Z"-prefixed stems); the title is
 * indexed with the article's first passage, as newsdex counts title words
 * towards it.  Boolean terms (wdf 0): "XS" + source name; with dates as
 * terms, "Y"yyyy, "M"yyyymm and "D"yyyymmdd (omega's scheme).  Values:
 * 0 = article id (the collapse key); 1 = sortable_serialise(days) with
 * dates as values.  Data: the passage text.  Metadata "A" + article id
 * (or "A#" + a hash of an id too long for a key): title, newline, url.
 * Default settings throughout (flush every 10,000 documents), one commit
 * at the end, then Xapian::Database::compact(), which is what
 * xapian-compact runs.
 *
 * Search: Xapian::QueryParser with the same stemmer and strategy and AND
 * as the default operator (the query sets' "and" queries are plain words);
 * a source filters as OP_FILTER with its boolean term, a date range as
 * OP_FILTER with either the OR of the fewest Y/M/D terms covering it or an
 * OP_VALUE_RANGE; Enquire with BM25Weight (the default), a collapse key on
 * the article and get_mset(0, k): no match spy and no check_at_least, so
 * Xapian prunes and the total is its estimate.  Each hit's passage text and
 * article record are read, as the other engines read theirs.
 *
 * No exception leaves this file: every entry point catches and turns it
 * into -1 with a message.
 */
#include "xapian_plain.h"

#include <xapian.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const Xapian::valueno SLOT_ARTICLE = 0;
const Xapian::valueno SLOT_DATE = 1;
const size_t KEY_MAX = 200; /* metadata keys may hold at most 245 bytes */

struct date_ymd {
    int y;
    unsigned m, d;
};

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
date_ymd
civil(int32_t days)
{
    long z = (long)days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = (long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;

    return date_ymd{(int)(y + (m <= 2)), m, d};
}

int32_t
days_of(int y, unsigned m, unsigned d)
{
    long yy = (long)y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    unsigned yoe = (unsigned)(yy - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return (int32_t)(era * 146097 + (long)doe - 719468);
}

std::string
date_term(char prefix, const date_ymd &c)
{
    char buf[32];

    if (prefix == 'Y')
        snprintf(buf, sizeof buf, "Y%04d", c.y);
    else if (prefix == 'M')
        snprintf(buf, sizeof buf, "M%04d%02u", c.y, c.m);
    else
        snprintf(buf, sizeof buf, "D%04d%02u%02u", c.y, c.m, c.d);
    return buf;
}

/* The fewest Y, M and D terms whose union is the days from..to. */
Xapian::Query
date_range_terms(int32_t from, int32_t to)
{
    std::vector<std::string> terms;
    int32_t day = from;

    while (day <= to) {
        date_ymd c = civil(day);
        int32_t year_end = days_of(c.y + 1, 1, 1) - 1;
        int32_t month_end = c.m == 12 ? year_end
                                      : days_of(c.y, c.m + 1, 1) - 1;

        if (c.m == 1 && c.d == 1 && year_end <= to) {
            terms.push_back(date_term('Y', c));
            day = year_end + 1;
        } else if (c.d == 1 && month_end <= to) {
            terms.push_back(date_term('M', c));
            day = month_end + 1;
        } else {
            terms.push_back(date_term('D', c));
            day++;
        }
    }
    return Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
}

std::string
article_key(const std::string &id)
{
    uint64_t h = 1469598103934665603ULL;
    char hex[24];

    if (id.size() + 1 <= KEY_MAX)
        return "A" + id;
    for (unsigned char c : id)
        h = (h ^ c) * 1099511628211ULL;
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    return std::string("A#") + hex;
}

int
fail(const char *op, char *err, size_t cap)
{
    try {
        throw;
    } catch (const Xapian::Error &e) {
        snprintf(err, cap, "xapian-plain: %s: %s", op,
                 e.get_description().c_str());
    } catch (const std::exception &e) {
        snprintf(err, cap, "xapian-plain: %s: %s", op, e.what());
    } catch (...) {
        snprintf(err, cap, "xapian-plain: %s: unknown error", op);
    }
    return -1;
}

Xapian::QueryParser
make_parser(const Xapian::Database &db)
{
    Xapian::QueryParser qp;

    qp.set_database(db);
    qp.set_stemmer(Xapian::Stem("english"));
    qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp.set_default_op(Xapian::Query::OP_AND);
    return qp;
}

} // namespace

struct xp_writer {
    std::string dir;
    int dates;
    Xapian::WritableDatabase db;
    Xapian::TermGenerator tg;
};

struct xp_searcher {
    int dates;
    size_t k;
    Xapian::Database db;
    Xapian::QueryParser qp;
};

extern "C" int
xp_writer_open(xp_writer **out, const char *dir, int dates, char *err,
               size_t err_cap)
{
    *out = nullptr;
    try {
        xp_writer *w = new xp_writer;

        w->dir = dir;
        w->dates = dates;
        fs::create_directories(dir);
        w->db = Xapian::WritableDatabase(w->dir + "/db",
                                         Xapian::DB_CREATE_OR_OVERWRITE);
        w->tg.set_stemmer(Xapian::Stem("english"));
        *out = w;
        return 0;
    } catch (...) {
        return fail("create", err, err_cap);
    }
}

extern "C" int
xp_add_article(xp_writer *w, const char *id, const char *title,
               const char *url, char *err, size_t err_cap)
{
    try {
        w->db.set_metadata(article_key(id),
                           std::string(title) + "\n" + url);
        return 0;
    } catch (...) {
        return fail("add article", err, err_cap);
    }
}

extern "C" int
xp_add_passage(xp_writer *w, const char *article_id, const char *title,
               const char *text, size_t text_len, const char *source,
               int has_date, int32_t date_days, char *err, size_t err_cap)
{
    try {
        Xapian::Document doc;

        w->tg.set_document(doc);
        if (title && title[0]) {
            w->tg.index_text(title);
            w->tg.increase_termpos();
        }
        w->tg.index_text(Xapian::Utf8Iterator(text, text_len));
        doc.add_boolean_term(std::string("XS") + source);
        if (has_date && w->dates != XP_DATES_VALUES) {
            date_ymd c = civil(date_days);

            doc.add_boolean_term(date_term('Y', c));
            doc.add_boolean_term(date_term('M', c));
            doc.add_boolean_term(date_term('D', c));
        }
        if (has_date && w->dates != XP_DATES_TERMS)
            doc.add_value(SLOT_DATE, Xapian::sortable_serialise(date_days));
        doc.add_value(SLOT_ARTICLE, article_id);
        doc.set_data(std::string(text, text_len));
        w->db.add_document(doc);
        return 0;
    } catch (...) {
        return fail("add passage", err, err_cap);
    }
}

extern "C" int
xp_writer_finish(xp_writer *w, double *compact_s, char *err, size_t err_cap)
{
    int rc = 0;

    *compact_s = 0;
    try {
        std::string db = w->dir + "/db", tmp = w->dir + "/db.compact";

        w->db.commit();
        w->db.close();
        auto t0 = std::chrono::steady_clock::now();
        fs::remove_all(tmp);
        Xapian::Database(db).compact(tmp);
        fs::remove_all(db);
        fs::rename(tmp, db);
        *compact_s = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - t0)
                         .count();
    } catch (...) {
        rc = fail("commit and compact", err, err_cap);
    }
    delete w;
    return rc;
}

extern "C" int
xp_sizes(const char *dir, uint64_t *postings, uint64_t *text,
         uint64_t *other, char *err, size_t err_cap)
{
    *postings = *text = *other = 0;
    try {
        for (const auto &f : fs::directory_iterator(std::string(dir) +
                                                    "/db")) {
            std::string name = f.path().filename().string();
            uint64_t bytes;

            if (!f.is_regular_file())
                continue;
            bytes = f.file_size();
            if (name == "postlist.glass" || name == "position.glass" ||
                name == "termlist.glass")
                *postings += bytes;
            else if (name == "docdata.glass")
                *text += bytes;
            else
                *other += bytes;
        }
        return 0;
    } catch (...) {
        return fail("sizes", err, err_cap);
    }
}

extern "C" int
xp_searcher_open(xp_searcher **out, const char *dir, int dates, size_t k,
                 char *err, size_t err_cap)
{
    *out = nullptr;
    try {
        xp_searcher *s = new xp_searcher;

        s->dates = dates;
        s->k = k;
        s->db = Xapian::Database(std::string(dir) + "/db");
        s->qp = make_parser(s->db);
        *out = s;
        return 0;
    } catch (...) {
        return fail("open", err, err_cap);
    }
}

extern "C" int
xp_search(xp_searcher *s, const char *text, const char *source, int has_from,
          int32_t from_days, int has_to, int32_t to_days,
          void (*on_hit)(void *ctx, const char *article_id), void *ctx,
          size_t *count, uint64_t *total, char *err, size_t err_cap)
{
    *count = 0;
    *total = 0;
    try {
        Xapian::Query q = s->qp.parse_query(text);
        Xapian::Enquire enq(s->db);

        if (source)
            q = Xapian::Query(Xapian::Query::OP_FILTER, q,
                              Xapian::Query(std::string("XS") + source));
        if (has_from || has_to) {
            /* An open end is the widest range of dates a news archive
             * could hold. */
            int32_t from = has_from ? from_days : days_of(1800, 1, 1);
            int32_t to = has_to ? to_days : days_of(2199, 12, 31);
            Xapian::Query dq;

            if (s->dates == XP_DATES_TERMS)
                dq = date_range_terms(from, to);
            else
                dq = Xapian::Query(Xapian::Query::OP_VALUE_RANGE, SLOT_DATE,
                                   Xapian::sortable_serialise(from),
                                   Xapian::sortable_serialise(to));
            q = Xapian::Query(Xapian::Query::OP_FILTER, q, dq);
        }
        enq.set_query(q);
        enq.set_collapse_key(SLOT_ARTICLE);
        Xapian::MSet mset = enq.get_mset(0, s->k);
        for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
            Xapian::Document doc = it.get_document();
            std::string passage = doc.get_data();
            std::string id = doc.get_value(SLOT_ARTICLE);
            std::string article = s->db.get_metadata(article_key(id));

            if (passage.empty() || article.empty())
                throw Xapian::DatabaseCorruptError("hit without its text or"
                                                   " article: " + id);
            on_hit(ctx, id.c_str());
            (*count)++;
        }
        *total = mset.get_matches_estimated();
        return 0;
    } catch (...) {
        return fail("search", err, err_cap);
    }
}

extern "C" void
xp_searcher_close(xp_searcher *s)
{
    delete s;
}
