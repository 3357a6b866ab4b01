/*
 * source.c - normalised source keys and source aliases.
 *
 * A source key is what filters compare: "USA TODAY", "USA Today" and
 * "usatoday.com" must all be "usatoday".  The key of a name is built in
 * this order:
 *   1. Unicode case fold, accents stripped, compatibility forms composed;
 *   2. a name that is a URL or a bare domain ("https://www.nytimes.com/x",
 *      "Salon.com") is cut to its host, "www." and a trailing top-level
 *      domain (".com", ".org", ".net", ".co.uk", ...) are dropped;
 *      otherwise a leading word "the" is dropped ("The Hill" -> "hill");
 *   3. everything but letters and digits is removed;
 *   4. an alias maps the key to its canonical key ("nytimes" ->
 *      "newyorktimes", "thehill" -> "hill").
 * The built-in aliases cover the outlets of the project's test corpora
 * whose domain and name differ; users add more with ndx_source_alias_add
 * or ndx_source_alias_load.
 *
 * ALIAS FILE FORMAT.  UTF-8 text, one alias a line: the alias, one TAB,
 * the canonical name, e.g. "WaPo<TAB>The Washington Post".  Both sides are
 * names as users write them; they are normalised as above before they are
 * stored.  Blank lines and lines whose first non-blank character is '#'
 * are ignored.  A line without a TAB is an error naming the file and line.
 *
 * Threads: aliases are added during setup; after that any number of
 * threads may compute keys at once.  User aliases take precedence over
 * the built-in ones; the table is process wide and lives until exit.
 * The module leaves the display name alone: articles keep the name they
 * were read with.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "newsdex/article.h"
#include "util/buf.h"
#include "util/text.h"

/* Longest key kept, in bytes; longer names are cut (no outlet comes close). */
#define KEY_MAX 128

typedef struct alias {
    char *from; /* normalised alias key, owned */
    char *to;   /* canonical key, owned */
} alias;

typedef struct alias_lit {
    const char *from; /* normalised alias key */
    const char *to;   /* canonical key */
} alias_lit;

/* Keys whose domain or short form differs from the outlet's name. */
static const alias_lit builtin_aliases[] = {
    {"538", "fivethirtyeight"},
    {"abcnewsgo", "abcnews"},
    {"ap", "associatedpress"},
    {"apnews", "associatedpress"},
    {"bbc", "bbcnews"},
    {"blaze", "theblaze"},
    {"breitbartnews", "breitbart"},
    {"brookings", "brookingsinstitution"},
    {"cbn", "cbnnews"},
    {"csmonitor", "christiansciencemonitor"},
    {"freebeacon", "washingtonfreebeacon"},
    {"ft", "financialtimes"},
    {"huffingtonpost", "huffpost"},
    {"ibtimes", "internationalbusinesstimes"},
    {"ijr", "independentjournalreview"},
    {"latimes", "losangelestimes"},
    {"nbcnewsgo", "nbcnews"},
    {"newsyahoo", "yahoonews"},
    {"nymag", "newyorkmagazine"},
    {"nypost", "newyorkpost"},
    {"nyt", "newyorktimes"},
    {"nytimes", "newyorktimes"},
    {"pewresearch", "pewresearchcenter"},
    {"suntimes", "chicagosuntimes"},
    {"theatlantic", "atlantic"},
    {"thedailybeast", "dailybeast"},
    {"theepochtimes", "epochtimes"},
    {"theguardian", "guardian"},
    {"thehill", "hill"},
    {"theintercept", "intercept"},
    {"themarshallproject", "marshallproject"},
    {"thenation", "nation"},
    {"thetimes", "times"},
    {"theverge", "verge"},
    {"theweek", "week"},
    {"wapo", "washingtonpost"},
    {"washtimes", "washingtontimes"},
    {"wsj", "wallstreetjournal"},
};

/* Top-level domains dropped from a domain; longer ones first. */
static const char *const tlds[] = {
    ".co.uk", ".org.uk", ".com.au", ".co.nz", ".co.za", ".com", ".org",
    ".net",   ".gov",    ".edu",    ".news",  ".info",  ".co",  ".io",
    ".us",    ".uk",     ".tv",     ".ca",    ".de",    ".fr",  ".au",
    ".ie",    ".eu",     ".in",     ".ru",    ".ua",    ".me",  ".biz",
};

static pthread_mutex_t alias_lock = PTHREAD_MUTEX_INITIALIZER;
static alias *user_aliases;     /* sorted by from */
static size_t user_alias_count; /* entries */
static size_t user_alias_cap;   /* allocated entries */

static int
has_prefix(const char *s, size_t len, const char *pre)
{
    size_t n = strlen(pre);

    return len >= n && memcmp(s, pre, n) == 0;
}

static int
has_suffix(const char *s, size_t len, const char *suf)
{
    size_t n = strlen(suf);

    return len > n && memcmp(s + len - n, suf, n) == 0;
}

/* The length of the top-level domain that ends s, or 0. */
static size_t
tld_len(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof tlds / sizeof tlds[0]; i++)
        if (has_suffix(s, len, tlds[i]))
            return strlen(tlds[i]);
    return 0;
}

/* Steps 1-3 of the key (no alias) into out (cap bytes with the NUL). */
static size_t
base_key(const char *name, char *out, size_t cap)
{
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t flen;
    const char *s;
    size_t len, n = 0, i, host;
    int domain = 0;

    if (cap == 0)
        return 0;
    flen = utf8proc_map((const utf8proc_uint8_t *)name,
                        (utf8proc_ssize_t)strlen(name), &folded,
                        UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE
                            | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
    if (flen < 0) {
        /* Invalid UTF-8: fold the ASCII part and drop the rest. */
        size_t nlen = strlen(name);
        folded = malloc(nlen + 1);
        if (!folded) {
            out[0] = '\0';
            return 0;
        }
        for (i = 0, flen = 0; i < nlen; i++) {
            unsigned char c = (unsigned char)name[i];
            if (c < 0x80)
                folded[flen++] = (utf8proc_uint8_t)((c >= 'A' && c <= 'Z')
                                                        ? c + 32 : c);
        }
        folded[flen] = '\0';
    }
    s = (const char *)folded;
    len = (size_t)flen;
    while (len && ndx_is_space((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && ndx_is_space((unsigned char)s[len - 1]))
        len--;

    if (has_prefix(s, len, "https://") || has_prefix(s, len, "http://")) {
        size_t skip = s[4] == 's' ? 8 : 7;
        s += skip;
        len -= skip;
        domain = 1;
    }
    for (host = 0; host < len && s[host] != '/'; host++)
        ;
    if (!domain) {
        domain = 1;
        for (i = 0; i < host; i++)
            if (ndx_is_space((unsigned char)s[i]))
                domain = 0;
        if (domain && !tld_len(s, host))
            domain = 0;
    }
    if (domain) {
        len = host;
        for (i = 0; i < len; i++)
            if (s[i] == ':')
                len = i; /* a port */
        if (has_prefix(s, len, "www.") && len > 4) {
            s += 4;
            len -= 4;
        }
        len -= tld_len(s, len);
    } else if (has_prefix(s, len, "the") && len > 4
               && ndx_is_space((unsigned char)s[3])) {
        s += 4;
        len -= 4;
    }

    for (i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(len - i),
                                              &cp);
        utf8proc_category_t cat;

        if (k <= 0) {
            i++;
            continue;
        }
        cat = utf8proc_category(cp);
        if ((cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)
            || (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO)) {
            if (n + (size_t)k >= cap)
                break;
            memcpy(out + n, s + i, (size_t)k);
            n += (size_t)k;
        }
        i += (size_t)k;
    }
    out[n] = '\0';
    free(folded);
    return n;
}

/* Index of the first user alias whose key is >= key. */
static size_t
user_lower_bound(const char *key)
{
    size_t lo = 0, hi = user_alias_count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(user_aliases[mid].from, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The canonical key for key, or NULL when it is no alias. */
static const char *
alias_lookup(const char *key)
{
    size_t i = user_lower_bound(key);

    if (i < user_alias_count && strcmp(user_aliases[i].from, key) == 0)
        return user_aliases[i].to;
    for (i = 0; i < sizeof builtin_aliases / sizeof builtin_aliases[0]; i++)
        if (strcmp(builtin_aliases[i].from, key) == 0)
            return builtin_aliases[i].to;
    return NULL;
}

size_t
ndx_source_key(const char *name, char *out, size_t out_cap)
{
    char key[KEY_MAX + 1];
    const char *canon;
    size_t n;

    if (out_cap == 0)
        return 0;
    if (!name) {
        out[0] = '\0';
        return 0;
    }
    n = base_key(name, key, sizeof key);
    canon = n ? alias_lookup(key) : NULL;
    if (canon) {
        n = strlen(canon);
        memcpy(key, canon, n + 1);
    }
    if (n >= out_cap) {
        /* Cut at a UTF-8 boundary. */
        n = out_cap - 1;
        while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, key, n);
    out[n] = '\0';
    return n;
}

ndx_status
ndx_source_alias_add(const char *alias_name, const char *canonical)
{
    char from[KEY_MAX + 1], to[KEY_MAX + 1];
    char *f = NULL, *t = NULL;
    ndx_status st = NDX_OK;
    size_t i;

    if (!alias_name || !canonical)
        return ndx_error(NDX_EINVAL, "source alias: missing name");
    if (!base_key(alias_name, from, sizeof from)
        || !ndx_source_key(canonical, to, sizeof to))
        return ndx_error(NDX_EINVAL,
                         "source alias '%s' -> '%s': a name needs a letter "
                         "or digit", alias_name, canonical);
    if (strcmp(from, to) == 0)
        return NDX_OK;

    pthread_mutex_lock(&alias_lock);
    i = user_lower_bound(from);
    if (i < user_alias_count && strcmp(user_aliases[i].from, from) == 0) {
        t = strdup(to);
        if (!t) {
            st = ndx_error(NDX_ENOMEM, "out of memory (source alias)");
            goto done;
        }
        free(user_aliases[i].to);
        user_aliases[i].to = t;
        goto done;
    }
    if (ndx_grow((void **)&user_aliases, &user_alias_cap,
                 user_alias_count + 1, sizeof *user_aliases, 16)) {
        st = ndx_error(NDX_ENOMEM, "out of memory (source alias)");
        goto done;
    }
    f = strdup(from);
    t = strdup(to);
    if (!f || !t) {
        free(f);
        free(t);
        st = ndx_error(NDX_ENOMEM, "out of memory (source alias)");
        goto done;
    }
    memmove(user_aliases + i + 1, user_aliases + i,
            (user_alias_count - i) * sizeof *user_aliases);
    user_aliases[i].from = f;
    user_aliases[i].to = t;
    user_alias_count++;
done:
    pthread_mutex_unlock(&alias_lock);
    return st;
}

ndx_status
ndx_source_alias_load(const char *path)
{
    FILE *f;
    char line[1024];
    long lineno = 0;
    ndx_status st = NDX_OK;

    f = fopen(path, "r");
    if (!f)
        return ndx_error(errno == ENOENT ? NDX_ENOTFOUND : NDX_EIO,
                         "open %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        char *p, *tab;

        lineno++;
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            st = ndx_error(NDX_EINVAL, "%s:%ld: line too long for an alias",
                           path, lineno);
            goto fail;
        }
        if (!(p = ndx_config_line(line)))
            continue;
        tab = strchr(p, '\t');
        if (!tab) {
            st = ndx_error(NDX_EINVAL,
                           "%s:%ld: expected 'alias<TAB>canonical name'",
                           path, lineno);
            goto fail;
        }
        *tab = '\0';
        st = ndx_source_alias_add(p, tab + 1);
        if (st == NDX_EINVAL) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", ndx_errmsg());
            st = ndx_error(NDX_EINVAL, "%s:%ld: %s", path, lineno, msg);
            goto fail;
        }
        if (st)
            goto fail;
    }
    if (ferror(f)) {
        st = ndx_error(NDX_EIO, "read %s: %s", path, strerror(errno));
        goto fail;
    }
fail:
    fclose(f);
    return st;
}
