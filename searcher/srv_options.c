/*
 * srv_options.c - the server's command line (`newsdex-search --listen`),
 * read with getopt_long like the one-shot command line in main.c.
 *
 * Times are in milliseconds (--timeout-ms, --idle-timeout-ms,
 * --refresh-ms); --idle-timeout S, in seconds, is kept for the command
 * lines written before, as another way to say --idle-timeout-ms.
 * Everything else about serving is left to the other srv_*.c files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv.h"

static void
usage(FILE *f)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    fprintf(f,
            "usage: " PROG " -i INDEX --listen ADDR [options]\n"
            "\n"
            "Serves searches over newline-delimited JSON: one request a "
            "line, one\n"
            "response a line (ops search, get, stats, ping); and over "
            "HTTP, with\n"
            "a search page at / (http: addresses).\n"
            "\n"
            "  -i, --index INDEX      the index to serve (required)\n"
            "  --listen ADDR          tcp:HOST:PORT, tcp:PORT, unix:/PATH, "
            "http:HOST:PORT\n"
            "                         or http:PORT; repeatable (host "
            "127.0.0.1; port 7878,\n"
            "                         for http: 8080, by default; port 0 "
            "picks one)\n"
            "  --threads N            worker threads (default: cores, %ld)\n"
            "  --max-request BYTES    longest request line (65536, at "
            "most 1048576)\n"
            "  --max-connections N    connections at once (256)\n"
            "  --max-inflight N       requests queued or running (256)\n"
            "  --max-output BYTES     answers held for clients that read "
            "slowly,\n"
            "                         over all connections (268435456)\n"
            "  --timeout-ms MS        time budget of one query, 0 = none "
            "(5000)\n"
            "  --idle-timeout-ms MS   close connections idle this long, "
            "0 = never (60000)\n"
            "  --idle-timeout S       the same in seconds\n"
            "  --refresh-ms MS        how often to look for new commits, "
            "0 = never (500)\n"
            "  --engine E             native or xapian (default: detect)\n"
            "  --shard tcp:HOST:PORT  a Xapian shard served by "
            "xapian-tcpsrv; repeatable\n"
            "  --allow-partial        answer when some shards are down\n"
            "  -q, --quiet            print errors only\n"
            "  -h, --help             this help\n"
            "\n"
            "Stops on SIGTERM or SIGINT after answering the requests in "
            "flight;\n"
            "SIGHUP looks for a new commit at once.\n"
            "Exit status: 0 after a stop, 1 on failure, 2 on a usage "
            "error.\n",
            cores > 0 ? cores : 1);
}

static int
parse_count(const char *opt, const char *v, double min, double max,
            double *out)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (!*v || *end || errno || d != d || d < min || d > max) {
        srv_complain("%s needs a number from %.0f to %.0f, not '%s'", opt,
                     min, max, v);
        return -1;
    }
    *out = d;
    return 0;
}

static int
parse_size(const char *opt, const char *v, double min, double max,
           size_t *out)
{
    double d;

    if (parse_count(opt, v, min, max, &d))
        return -1;
    if (d != (double)(size_t)d) {
        srv_complain("%s needs a whole number, not '%s'", opt, v);
        return -1;
    }
    *out = (size_t)d;
    return 0;
}

/* Appends an address of a repeatable option; 0, or -1 past max. */
static int
add_addr(const char **list, size_t *count, size_t max, const char *opt,
         const char *v)
{
    if (*count == max) {
        srv_complain("at most %zu %s addresses", max, opt);
        return -1;
    }
    list[(*count)++] = v;
    return 0;
}

int
srv_options_parse(srv_opts *o, int argc, char **argv)
{
    enum {
        O_LISTEN = 256, O_THREADS, O_MAX_REQUEST, O_MAX_CONNECTIONS,
        O_MAX_INFLIGHT, O_MAX_OUTPUT, O_TIMEOUT_MS, O_IDLE_TIMEOUT_MS,
        O_IDLE_TIMEOUT_S,
        O_REFRESH_MS, O_ENGINE, O_SHARD, O_ALLOW_PARTIAL
    };
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'i'},
        {"listen", required_argument, NULL, O_LISTEN},
        {"threads", required_argument, NULL, O_THREADS},
        {"max-request", required_argument, NULL, O_MAX_REQUEST},
        {"max-connections", required_argument, NULL, O_MAX_CONNECTIONS},
        {"max-inflight", required_argument, NULL, O_MAX_INFLIGHT},
        {"max-output", required_argument, NULL, O_MAX_OUTPUT},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT_MS},
        {"idle-timeout-ms", required_argument, NULL, O_IDLE_TIMEOUT_MS},
        {"idle-timeout", required_argument, NULL, O_IDLE_TIMEOUT_S},
        {"refresh-ms", required_argument, NULL, O_REFRESH_MS},
        {"engine", required_argument, NULL, O_ENGINE},
        {"shard", required_argument, NULL, O_SHARD},
        {"allow-partial", no_argument, NULL, O_ALLOW_PARTIAL},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = 0;
    int c, idx = 0;

    memset(o, 0, sizeof *o);
    o->max_request = 65536;
    o->max_connections = 256;
    o->max_inflight = 256;
    o->max_output = SRV_MAX_OUTPUT_DEFAULT;
    o->timeout_ms = 5000;
    o->idle_ms = 60000;
    o->refresh_ms = 500;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:hq", longopts, &idx)) != -1) {
        const char *name = NULL;
        char opt[64];

        /* The option's full name, for messages. */
        if (c >= 256) {
            snprintf(opt, sizeof opt, "--%s", longopts[idx].name);
            name = opt;
        }
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'i':
            o->index_path = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case O_LISTEN:
            if (add_addr(o->listen, &o->listen_count, SRV_MAX_LISTEN,
                         name, optarg))
                return 2;
            break;
        case O_THREADS:
            if (parse_size(name, optarg, 1, SRV_MAX_THREADS, &threads))
                return 2;
            break;
        case O_MAX_REQUEST:
            if (parse_size(name, optarg, 64, SRV_MAX_REQUEST_MAX,
                           &o->max_request))
                return 2;
            break;
        case O_MAX_CONNECTIONS:
            if (parse_size(name, optarg, 1, 1000000, &o->max_connections))
                return 2;
            break;
        case O_MAX_INFLIGHT:
            if (parse_size(name, optarg, 1, 1000000, &o->max_inflight))
                return 2;
            break;
        case O_MAX_OUTPUT:
            if (parse_size(name, optarg, SRV_WBUF_HIGH, 1e15,
                           &o->max_output))
                return 2;
            break;
        case O_TIMEOUT_MS:
            if (parse_count(name, optarg, 0, 86400000, &o->timeout_ms))
                return 2;
            break;
        case O_IDLE_TIMEOUT_MS:
            if (parse_count(name, optarg, 0, 86400000.0 * 7, &o->idle_ms))
                return 2;
            break;
        case O_IDLE_TIMEOUT_S:
            if (parse_count(name, optarg, 0, 86400 * 7, &o->idle_ms))
                return 2;
            o->idle_ms *= 1000;
            break;
        case O_REFRESH_MS:
            if (parse_count(name, optarg, 0, 86400000, &o->refresh_ms))
                return 2;
            break;
        case O_ENGINE:
            o->engine = optarg;
            break;
        case O_SHARD:
            if (add_addr(o->shards, &o->shard_count, SRV_MAX_SHARDS, name,
                         optarg))
                return 2;
            break;
        case O_ALLOW_PARTIAL:
            o->allow_partial = 1;
            break;
        case ':':
            srv_complain("%s needs a value; see --help", argv[optind - 1]);
            return 2;
        default:
            /* getopt_long names a known long option given a value in
             * optopt, an unknown one by 0. */
            if (optopt && !strncmp(argv[optind - 1], "--", 2))
                srv_complain("%.*s takes no value; see --help",
                             (int)strcspn(argv[optind - 1], "="),
                             argv[optind - 1]);
            else
                srv_complain("unknown option %s with --listen; see --help",
                             argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        srv_complain("unexpected argument '%s': with --listen, queries "
                     "come over the socket; see --help", argv[optind]);
        return 2;
    }
    if (!o->index_path) {
        srv_complain("--listen needs the index to serve: -i INDEX");
        return 2;
    }
    if (!o->listen_count) {
        srv_complain("--listen needs an address, e.g. tcp:127.0.0.1:7878");
        return 2;
    }
    o->threads = threads ? (unsigned)threads
                 : (unsigned)(cores > 0 ? (cores > SRV_MAX_THREADS
                                               ? SRV_MAX_THREADS
                                               : cores)
                                        : 1);
    return -1;
}
