/*
 * newsdex-search - one-shot searches from the command line, and the query
 * socket server (--listen, server.c).
 *
 *   newsdex-search -i INDEX [options] QUERY...
 *   newsdex-search -i INDEX --get ID
 *   newsdex-search -i INDEX --stats
 *   newsdex-search -i INDEX --listen tcp:127.0.0.1:7878 | unix:/path
 *
 * Parsing, ranking and snippets are libnewsdex's; this program parses
 * options and prints (render.c).  Exit codes: 0 success (also when nothing
 * matches), 1 failure, 2 usage (including a query that cannot be parsed).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "newsdex/newsdex.h"
#include "render.h"
#include "server.h"
#include "util/buf.h"

#define MAX_SOURCES 64
#define MAX_SHARDS 256

static const char usage_text[] =
    "usage: newsdex-search -i INDEX [options] QUERY...\n"
    "       newsdex-search -i INDEX --get ID [--json]\n"
    "       newsdex-search -i INDEX --stats [--json]\n"
    "       newsdex-search -i INDEX --listen tcp:HOST:PORT|unix:PATH "
    "[server options]\n"
    "\n"
    "Searches a newsdex index and prints the best passages, one per article\n"
    "(BM25).  Query syntax: words (all must match, stemmed), \"exact "
    "phrase\",\n"
    "a OR b, -word / NOT word, word*, title:word, source:NAME,\n"
    "date:2025-04 / date:2025-04-01..2025-04-30, after:D, before:D, ( ).\n"
    "\n"
    "options:\n"
    "  -i, --index INDEX     the index directory\n"
    "  -k N                  hits to show (default 10)\n"
    "      --offset N        hits to skip first (paging)\n"
    "      --source S        only this source (repeatable: any of them)\n"
    "      --from D          only articles dated D or later\n"
    "      --to D            only articles dated D or earlier\n"
    "      --sort S          relevance (default), newest or oldest\n"
    "      --passages        every matching passage, not one per article\n"
    "      --json            print JSON (the query socket's response form)\n"
    "      --no-snippets     print whole passages instead of snippets\n"
    "      --no-collapse-titles  show each hit of a source with one title\n"
    "                        (otherwise the first lists the others' dates)\n"
    "      --exact-total     count every match (otherwise the count is\n"
    "                        exact up to 1,000 and a lower bound beyond)\n"
    "      --facets LIST     count the matching articles by source, year,\n"
    "                        month or day (e.g. source,month)\n"
    "      --facet-limit N   sources listed at most (default 20, 0: all)\n"
    "      --csv             every matching article as CSV: id, date,\n"
    "                        source, title, url (at most 100,000)\n"
    "      --k1 X, --b X     BM25 parameters for this search (default 1.2\n"
    "                        and 0.75; see docs/ranking.md)\n"
    "      --variants FILE   more name variants for this search (lines of\n"
    "                        spellings of one name, e.g. \"Kyiv Kiev\")\n"
    "      --engine E        native or xapian (default: detect)\n"
    "      --shard tcp:HOST:PORT  xapian: search remote shards (repeatable)\n"
    "      --allow-partial   xapian: answer from the shards that are up\n"
    "      --get ID          print one article\n"
    "      --stats           print the index statistics\n"
    "      --listen ADDR     serve queries on a socket (see --listen --help)\n"
    "  -h, --help            this text\n";

static int
parse_day(const char *s, int last, int32_t *out)
{
    int32_t first_d, last_d;

    if (ndx_date_parse_range(s, strlen(s), &first_d, &last_d) != NDX_OK)
        return -1;
    *out = last ? last_d : first_d;
    return 0;
}

/* "source,month" into NDX_FACET_* bits; -1 with a message when a name
 * is unknown. */
static int
parse_facets(const char *list, unsigned *out)
{
    const char *p = list;

    *out = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        unsigned k = render_facet_kind(p, n);

        if (!k) {
            fprintf(stderr,
                    "newsdex-search: --facets: unknown facet '%.*s'; facets "
                    "are source, year, month, day\n",
                    (int)n, p);
            return -1;
        }
        *out |= k;
        p += n + (p[n] == ',');
    }
    return 0;
}

static ndx_status
emit_stdout(void *ctx, const ndx_buf *b)
{
    (void)ctx;
    if (fwrite(b->data, 1, b->len, stdout) != b->len)
        return ndx_error(NDX_EIO, "write to standard output failed");
    return NDX_OK;
}

static void
print_syntax_error(const char *query, size_t col)
{
    fprintf(stderr, "newsdex-search: query error: %s\n", ndx_errmsg());
    if (col > 0) {
        size_t i;

        fprintf(stderr, "  %s\n  ", query);
        for (i = 1; i < col; i++)
            fputc(query[i - 1] == '\t' ? '\t' : ' ', stderr);
        fputs("^\n", stderr);
    }
}

int
main(int argc, char **argv)
{
    enum {
        O_OFFSET = 256, O_SOURCE, O_FROM, O_TO, O_SORT, O_PASSAGES, O_JSON,
        O_NOSNIP, O_ENGINE, O_SHARD, O_PARTIAL, O_GET, O_STATS, O_EXACT,
        O_FACETS,
        O_FACET_LIMIT, O_CSV, O_VARIANTS, O_K1, O_B, O_NOCOLLAPSE
    };
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'i'},
        {"offset", required_argument, NULL, O_OFFSET},
        {"source", required_argument, NULL, O_SOURCE},
        {"from", required_argument, NULL, O_FROM},
        {"to", required_argument, NULL, O_TO},
        {"sort", required_argument, NULL, O_SORT},
        {"passages", no_argument, NULL, O_PASSAGES},
        {"json", no_argument, NULL, O_JSON},
        {"no-snippets", no_argument, NULL, O_NOSNIP},
        {"no-collapse-titles", no_argument, NULL, O_NOCOLLAPSE},
        {"exact-total", no_argument, NULL, O_EXACT},
        {"engine", required_argument, NULL, O_ENGINE},
        {"shard", required_argument, NULL, O_SHARD},
        {"allow-partial", no_argument, NULL, O_PARTIAL},
        {"get", required_argument, NULL, O_GET},
        {"stats", no_argument, NULL, O_STATS},
        {"facets", required_argument, NULL, O_FACETS},
        {"facet-limit", required_argument, NULL, O_FACET_LIMIT},
        {"csv", no_argument, NULL, O_CSV},
        {"variants", required_argument, NULL, O_VARIANTS},
        {"k1", required_argument, NULL, O_K1},
        {"b", required_argument, NULL, O_B},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *index = NULL, *engine = NULL, *get = NULL;
    const char *sources[MAX_SOURCES];
    const char *shards[MAX_SHARDS];
    size_t nsources = 0, nshards = 0, err_col = 0, i;
    int json = 0, stats = 0, csv = 0, c, rc = 1;
    ndx_search_opts o;
    ndx_engine_config cfg;
    ndx_index *ix = NULL;
    ndx_results *res = NULL;
    ndx_buf q, b;
    ndx_status st;

    for (i = 1; i < (size_t)argc; i++)
        if (strcmp(argv[i], "--listen") == 0 ||
            strncmp(argv[i], "--listen=", 9) == 0)
            return server_main(argc, argv);

    ndx_search_opts_init(&o);
    ndx_engine_config_init(&cfg);
    ndx_buf_init(&q);
    ndx_buf_init(&b);
    while ((c = getopt_long(argc, argv, "i:k:h", longopts, NULL)) != -1) {
        char *end;

        switch (c) {
        case 'i': index = optarg; break;
        case 'k':
            o.k = strtoul(optarg, &end, 10);
            if (*end || o.k > 100000) {
                fprintf(stderr, "newsdex-search: -k takes 0..100000\n");
                return 2;
            }
            break;
        case O_OFFSET:
            o.offset = strtoul(optarg, &end, 10);
            if (*end || o.offset > 10000000) {
                fprintf(stderr, "newsdex-search: --offset takes a number\n");
                return 2;
            }
            break;
        case O_SOURCE:
            if (nsources == MAX_SOURCES) {
                fprintf(stderr, "newsdex-search: at most %d --source\n",
                        MAX_SOURCES);
                return 2;
            }
            sources[nsources++] = optarg;
            break;
        case O_FROM:
        case O_TO:
            if (parse_day(optarg, c == O_TO,
                          c == O_TO ? &o.to_days : &o.from_days) != 0) {
                fprintf(stderr,
                        "newsdex-search: --%s: '%s' is not a date; use "
                        "YYYY-MM-DD, YYYY-MM or YYYY\n",
                        c == O_TO ? "to" : "from", optarg);
                return 2;
            }
            break;
        case O_SORT:
            if (strcmp(optarg, "relevance") == 0)
                o.sort = NDX_SORT_RELEVANCE;
            else if (strcmp(optarg, "newest") == 0)
                o.sort = NDX_SORT_NEWEST;
            else if (strcmp(optarg, "oldest") == 0)
                o.sort = NDX_SORT_OLDEST;
            else {
                fprintf(stderr, "newsdex-search: --sort takes relevance, "
                                "newest or oldest\n");
                return 2;
            }
            break;
        case O_PASSAGES: o.group = NDX_GROUP_PASSAGE; break;
        case O_JSON: json = 1; break;
        case O_NOSNIP: o.snippets = 0; break;
        case O_NOCOLLAPSE: o.collapse_titles = 0; break;
        case O_EXACT: o.exact_total = 1; break;
        case O_ENGINE: engine = optarg; break;
        case O_SHARD:
            if (nshards == MAX_SHARDS) {
                fprintf(stderr, "newsdex-search: at most %d --shard\n",
                        MAX_SHARDS);
                return 2;
            }
            shards[nshards++] = optarg;
            break;
        case O_PARTIAL: cfg.allow_partial = 1; break;
        case O_GET: get = optarg; break;
        case O_STATS: stats = 1; break;
        case O_FACETS:
            if (parse_facets(optarg, &o.facets) != 0)
                return 2;
            break;
        case O_FACET_LIMIT:
            o.facet_limit = strtoul(optarg, &end, 10);
            if (*end || !*optarg || o.facet_limit > 100000) {
                fprintf(stderr, "newsdex-search: --facet-limit takes "
                                "0..100000\n");
                return 2;
            }
            break;
        case O_CSV: csv = 1; break;
        case O_K1:
        case O_B: {
            double v = strtod(optarg, &end);

            if (*end || v < 0 || v > (c == O_B ? 1.0 : 100.0)) {
                fprintf(stderr, "newsdex-search: --%s takes a number in "
                                "%s\n", c == O_B ? "b" : "k1",
                        c == O_B ? "0..1" : "0..100");
                return 2;
            }
            if (c == O_B)
                o.bm25.b = v;
            else
                o.bm25.k1 = v;
            break;
        }
        case O_VARIANTS:
            if (ndx_variants_load(optarg)) {
                fprintf(stderr, "newsdex-search: %s\n", ndx_errmsg());
                return 1;
            }
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (!index && !nshards) {
        fprintf(stderr, "newsdex-search: missing -i INDEX\n%s", usage_text);
        return 2;
    }
    if (!get && !stats && optind >= argc) {
        fprintf(stderr, "newsdex-search: missing QUERY\n%s", usage_text);
        return 2;
    }
    o.sources = sources;
    o.source_count = nsources;
    cfg.remotes = shards;
    cfg.remote_count = nshards;
    if ((st = ndx_index_open(&ix, index ? index : "", NDX_OPEN_READ, engine,
                             &cfg))) {
        fprintf(stderr, "newsdex-search: %s\n", ndx_errmsg());
        return 1;
    }
    if (get) {
        ndx_doc *d;

        if ((st = ndx_index_get(ix, get, &d))) {
            fprintf(stderr, "newsdex-search: %s\n", ndx_errmsg());
            goto done;
        }
        if (json) {
            ndx_buf_putc(&b, '{');
            render_doc_json(&b, d);
            ndx_buf_puts(&b, "}\n");
            fwrite(b.data, 1, b.len, stdout);
        } else {
            char day[11];

            ndx_date_format(d->date_days, day);
            printf("%s\n%s  %s  %s\n%s\n\n", d->title[0] ? d->title : d->id,
                   day[0] ? day : "undated", d->source, d->id, d->url);
            for (i = 0; i < d->passage_count; i++)
                printf("[%zu] %s\n\n", i, d->passages[i]);
        }
        ndx_doc_free(d);
        rc = 0;
        goto done;
    }
    if (stats) {
        ndx_stats s;

        if ((st = ndx_index_stats(ix, &s))) {
            fprintf(stderr, "newsdex-search: %s\n", ndx_errmsg());
            goto done;
        }
        ndx_buf_putc(&b, '{');
        render_stats_json(&b, &s);
        ndx_buf_puts(&b, "}\n");
        fwrite(b.data, 1, b.len, stdout);
        ndx_stats_clear(&s);
        rc = 0;
        goto done;
    }
    for (i = (size_t)optind; i < (size_t)argc; i++) {
        if (i > (size_t)optind)
            ndx_buf_putc(&q, ' ');
        ndx_buf_puts(&q, argv[i]);
    }
    ndx_buf_cstr(&q);
    if (csv) {
        int truncated;

        st = export_csv(ix, (const char *)q.data, &o, emit_stdout, NULL,
                        &err_col, &truncated);
        if (!st && truncated)
            fprintf(stderr, "newsdex-search: --csv stops at %d articles\n",
                    EXPORT_MAX_ROWS);
    } else {
        st = ndx_index_search(ix, (const char *)q.data, &o, &res, &err_col);
    }
    if (st == NDX_ESYNTAX) {
        if (json) {
            ndx_buf_puts(&b, "{\"ok\":false,");
            render_error_json(&b, "syntax", ndx_errmsg());
            ndx_buf_puts(&b, "}\n");
            fwrite(b.data, 1, b.len, stdout);
        }
        print_syntax_error((const char *)q.data, err_col);
        rc = 2;
        goto done;
    }
    if (st) {
        fprintf(stderr, "newsdex-search: %s\n", ndx_errmsg());
        goto done;
    }
    if (csv) {
        if (fflush(stdout) != 0) {
            fprintf(stderr, "newsdex-search: write to standard output "
                            "failed\n");
            goto done;
        }
    } else if (json) {
        ndx_buf_puts(&b, "{\"ok\":true,");
        render_results_json(&b, res);
        ndx_buf_puts(&b, "}\n");
        fwrite(b.data, 1, b.len, stdout);
    } else {
        render_results_text(stdout, res, o.offset, isatty(STDOUT_FILENO));
    }
    rc = 0;
done:
    ndx_results_free(res);
    ndx_index_close(ix);
    ndx_buf_free(&q);
    ndx_buf_free(&b);
    return rc;
}
