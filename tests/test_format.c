/*
 * test_format.c - the on-disk formats as their FORMAT comments describe
 * them.  A one-article native index is written through the public API,
 * and its segment, manifest and ENGINE file are decoded here by hand,
 * following core/native/segment.h and core/native/manifest.h word for
 * word (no reader code is used), and checked against what the article
 * says.  When the writer and a description drift apart, this fails.
 *
 * The article's text has 14 tokens and no title: "zebras rest near the
 * river while the herd crosses the dusty road at noon".  Each token gives
 * its surface term (with positions) and its "Z"stem term (analyze.h);
 * the twelve distinct words have twelve distinct stems, so the passage
 * has 24 terms and a length of 28 (14 surface + 14 stem occurrences).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <zlib.h>

#include "newsdex/newsdex.h"
#include "support.h"

#define TEXT                                                             \
    "Zebras rest near the river while the herd crosses the dusty road at " \
    "noon."
#define DAYS_2025_04_03 20181 /* days from 1970-01-01 */

static uint32_t
u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t
u64(const unsigned char *p)
{
    return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

/* LEB128; advances *p. */
static uint64_t
varint(const unsigned char **p)
{
    uint64_t v = 0;
    unsigned shift = 0;

    while (**p & 0x80) {
        v |= (uint64_t)(**p & 0x7F) << shift;
        shift += 7;
        (*p)++;
    }
    v |= (uint64_t)**p << shift;
    (*p)++;
    return v;
}

static int64_t
unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Builds the one-article index once; its directory. */
static const char *
one_article_index(void)
{
    static char dir[400];
    ndx_article a;
    ndx_index *ix = NULL;

    if (dir[0])
        return dir;
    snprintf(dir, sizeof dir, "%s/fmt.idx", t_tmpdir());
    memset(&a, 0, sizeof a);
    a.id = "fmt-1";
    a.source = "Format Wire";
    a.title = "";
    a.url = "https://example.org/z";
    a.lang = "";
    a.date_days = DAYS_2025_04_03;
    a.time_secs = -1;
    a.text = TEXT;
    a.text_len = strlen(TEXT);
    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_WRITE, "native",
                                   NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    return dir;
}

/* The version a FORMAT comment states on the line that starts with
 * marker ("FORMAT (version N)", "FORMAT of X (text, version N)"), or -1. */
static int
described_version(const char *header, const char *marker)
{
    char *src = t_slurp(header, NULL);
    const char *at = src ? strstr(src, marker) : NULL;
    const char *nl = at ? strchr(at, '\n') : NULL;
    const char *v_at = at ? strstr(at, "version ") : NULL;
    int v = -1;

    if (!v_at || (nl && v_at > nl) || sscanf(v_at, "version %d", &v) != 1)
        v = -1;
    free(src);
    return v;
}

/* The segment named by the index's manifest (manifest.h), read whole. */
static unsigned char *
read_segment(const char *dir, size_t *len)
{
    char path[600], name[128] = "", del[128];
    char *man, *line;
    unsigned char *seg;

    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    man = t_slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(man);
    line = strstr(man, "\nsegment ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    CU_ASSERT_EQUAL(sscanf(line + 1, "segment %127s %127s", name, del), 2);
    CU_ASSERT_STRING_EQUAL(del, "-");
    CU_ASSERT_PTR_NULL(strstr(line + 1, "\nsegment ")); /* just one */
    free(man);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    seg = (unsigned char *)t_slurp(path, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(seg);
    return seg;
}

static void
test_format_manifest_and_engine_files_are_as_described(void)
{
    const char *dir = one_article_index();
    char path[600], *s, *crc_line;
    unsigned long crc_hex;
    int written = -1;
    int v = described_version("core/native/manifest.h",
                              "FORMAT of INDEX/MANIFEST");

    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    s = t_slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* "newsdex-manifest V" with the version the description gives,
     * "generation 1" (one commit), "next S", one segment line, then
     * "crc X" over every byte before that line. */
    CU_ASSERT(v > 0);
    CU_ASSERT_EQUAL(sscanf(s, "newsdex-manifest %d\n", &written), 1);
    CU_ASSERT_EQUAL(written, v);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\ngeneration 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\nnext "));
    crc_line = strstr(s, "\ncrc ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(crc_line);
    CU_ASSERT_EQUAL(sscanf(crc_line + 5, "%lx", &crc_hex), 1);
    CU_ASSERT_EQUAL(crc_hex, crc32(0L, (const Bytef *)s,
                                   (uInt)(crc_line + 1 - s)));
    free(s);
    /* ENGINE (native.c): the line "native". */
    snprintf(path, sizeof path, "%s/ENGINE", dir);
    s = t_slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "native\n");
    free(s);
}

/* A decoded toc entry. */
typedef struct sec {
    const unsigned char *p; /* the section's bytes */
    uint64_t len;           /* bytes */
} sec;

enum {
    META = 1, DICT, DICTIDX, POSTINGS, POSITIONS, COLUMNS, ARTICLES, ASTR,
    IDS, SOURCES, TEXTIDX, TEXTS, LENGTHS, TEXTLOC, TEXTDICT, TEXTDICTS,
    NSEC = TEXTDICTS
};

static void
test_format_segment_decodes_as_described(void)
{
    static const char *const words[] = {"zebras", "rest", "near", "the",
                                        "river", "while", "the", "herd",
                                        "crosses", "the", "dusty", "road",
                                        "at", "noon"};
    size_t len, i, nterms = 0;
    unsigned char *f = read_segment(one_article_index(), &len);
    sec s[NSEC + 1];
    uint64_t toc_off, h;
    const unsigned char *toc, *p, *end;
    char prev[64] = "", term[64];
    uint64_t exp_post = 0, prev_pos = 0;
    int found_the = 0, found_zthe = 0, found_noon = 0;
    size_t zwdf = 0, zterms = 0;

    /* header */
    CU_ASSERT_FATAL(len > 16 + 24);
    CU_ASSERT_EQUAL(memcmp(f, "NDXSEG\r\n", 8), 0);
    CU_ASSERT_EQUAL(u32(f + 8), (uint32_t)described_version(
                                    "core/native/segment.h", "FORMAT"));
    CU_ASSERT_EQUAL(u32(f + 12), 0);
    /* trailer: the last 24 bytes */
    CU_ASSERT_EQUAL(memcmp(f + len - 8, "NDXEND\r\n", 8), 0);
    CU_ASSERT_EQUAL_FATAL(u32(f + len - 24), NSEC);
    toc_off = u64(f + len - 16);
    CU_ASSERT_EQUAL_FATAL(toc_off + NSEC * 24 + 24, len);
    toc = f + toc_off;
    CU_ASSERT_EQUAL(u32(f + len - 20),
                    crc32(0L, toc, (uInt)(NSEC * 24)));
    /* toc: sections 1..16 in order, back to back from 16 */
    for (i = 1; i <= NSEC; i++) {
        const unsigned char *e = toc + (i - 1) * 24;
        uint64_t off = u64(e + 8);

        CU_ASSERT_EQUAL(u32(e), i);
        CU_ASSERT_EQUAL(off, i == 1 ? 16 : (uint64_t)(s[i - 1].p - f) +
                                               s[i - 1].len);
        s[i].p = f + off;
        s[i].len = u64(e + 16);
        CU_ASSERT_FATAL(off + s[i].len <= toc_off);
        CU_ASSERT_EQUAL(u32(e + 4), crc32(0L, s[i].p, (uInt)s[i].len));
    }
    CU_ASSERT_EQUAL((uint64_t)(s[NSEC].p - f) + s[NSEC].len, toc_off);

    /* META: one passage, one article, length 28, 24 terms, the day
     * twice, one dictionary block, one text block, one source. */
    CU_ASSERT_EQUAL_FATAL(s[META].len, 9 * 8);
    CU_ASSERT_EQUAL(u64(s[META].p), 1);
    CU_ASSERT_EQUAL(u64(s[META].p + 8), 1);
    CU_ASSERT_EQUAL(u64(s[META].p + 16), 28);
    CU_ASSERT_EQUAL(u64(s[META].p + 24), 24);
    CU_ASSERT_EQUAL((int64_t)u64(s[META].p + 32), DAYS_2025_04_03);
    CU_ASSERT_EQUAL((int64_t)u64(s[META].p + 40), DAYS_2025_04_03);
    CU_ASSERT_EQUAL(u64(s[META].p + 48), 1);
    CU_ASSERT_EQUAL(u64(s[META].p + 56), 1);
    CU_ASSERT_EQUAL(u64(s[META].p + 64), 1);

    /* DICTIDX: one block at 0, its first term right after two varints */
    CU_ASSERT_EQUAL_FATAL(s[DICTIDX].len, 16);
    CU_ASSERT_EQUAL(u64(s[DICTIDX].p), 0);

    /* DICT: 24 entries in bytewise order, each one's postings and
     * positions checked against the text. */
    p = s[DICT].p;
    end = p + s[DICT].len;
    while (p < end) {
        uint64_t shared = varint(&p), rest = varint(&p), dfp, post_off,
                 post_len, pos_off;
        const unsigned char *q;
        size_t wdf = 0, k;
        int surface;

        CU_ASSERT_FATAL(shared <= strlen(prev) &&
                        shared + rest < sizeof term);
        if (nterms == 0) {
            CU_ASSERT_EQUAL(shared, 0);
            CU_ASSERT_EQUAL(u32(s[DICTIDX].p + 8), (uint32_t)(p - s[DICT].p));
            CU_ASSERT_EQUAL(u32(s[DICTIDX].p + 12), rest);
        }
        memcpy(term, prev, shared);
        memcpy(term + shared, p, rest);
        term[shared + rest] = '\0';
        p += rest;
        CU_ASSERT(nterms == 0 || strcmp(prev, term) < 0);
        dfp = varint(&p);
        post_off = (uint64_t)((int64_t)exp_post + unzigzag(varint(&p)));
        post_len = varint(&p);
        pos_off = prev_pos + varint(&p);
        exp_post = post_off + post_len;
        prev_pos = pos_off;
        surface = term[0] != 'Z';
        /* df 1; positions for surface terms only */
        CU_ASSERT_EQUAL(dfp, 2 + (uint64_t)surface);
        CU_ASSERT_FATAL(post_off + post_len <= s[POSTINGS].len);
        q = s[POSTINGS].p + post_off;
        if (surface) {
            /* the word's occurrences in the text */
            for (k = 0; k < 14; k++)
                wdf += strcmp(term, words[k]) == 0;
            CU_ASSERT(wdf > 0);
        } else {
            /* a stem's wdf is its word's (no two words share a stem) */
            wdf = q[2] == 0 ? 1 : (size_t)q[3] + 1;
            zwdf += wdf;
            zterms++;
        }
        /* one posting, passage 0: first gap 0, no other gaps (0 gap
         * bits), wdf - 1 in as many bits as it needs, one byte */
        CU_ASSERT_EQUAL(q[0], 0);
        CU_ASSERT_EQUAL(q[1], 0);
        if (wdf == 1) {
            CU_ASSERT_EQUAL(post_len, 3);
            CU_ASSERT_EQUAL(q[2], 0);
        } else {
            unsigned bits = 0;

            while ((wdf - 1) >> bits)
                bits++;
            CU_ASSERT_EQUAL(post_len, 4);
            CU_ASSERT_EQUAL(q[2], bits);
            CU_ASSERT_EQUAL(q[3], wdf - 1);
        }
        if (surface) {
            /* positions: the word's token ordinals, as gaps from 0 */
            const unsigned char *r = s[POSITIONS].p + pos_off;
            uint64_t pos = 0;

            for (k = 0; k < 14; k++) {
                if (strcmp(term, words[k]) != 0)
                    continue;
                pos += varint(&r);
                CU_ASSERT_EQUAL(pos, k);
            }
        }
        found_the |= strcmp(term, "the") == 0 && wdf == 3;
        found_zthe |= strcmp(term, "Zthe") == 0 && wdf == 3;
        found_noon |= strcmp(term, "noon") == 0 && wdf == 1;
        snprintf(prev, sizeof prev, "%s", term);
        nterms++;
    }
    CU_ASSERT_EQUAL(nterms, 24);
    CU_ASSERT_EQUAL(zterms, 12);
    CU_ASSERT_EQUAL(zwdf, 14);
    CU_ASSERT(found_the && found_zthe && found_noon);

    /* COLUMNS, LENGTHS, TEXTLOC: passage 0 of article 0, length 28, at
     * offset 0 of text block 0, the whole text */
    CU_ASSERT_EQUAL_FATAL(s[COLUMNS].len, 8);
    CU_ASSERT_EQUAL(u32(s[COLUMNS].p), 0);
    CU_ASSERT_EQUAL(u32(s[COLUMNS].p + 4), 28);
    CU_ASSERT_EQUAL(s[LENGTHS].len, 0);
    CU_ASSERT_EQUAL_FATAL(s[TEXTLOC].len, 12);
    CU_ASSERT_EQUAL(u32(s[TEXTLOC].p), 0);
    CU_ASSERT_EQUAL(u32(s[TEXTLOC].p + 4), 0);
    CU_ASSERT_EQUAL(u32(s[TEXTLOC].p + 8), strlen(TEXT));

    /* TEXTDICT: empty, so little text has no preset dictionary; TEXTIDX
     * and TEXT: one raw deflate stream holding the text */
    CU_ASSERT_EQUAL(s[TEXTDICT].len, 0);
    /* TEXTDICTS: one run from block 0, its dictionary empty */
    CU_ASSERT_EQUAL_FATAL(s[TEXTDICTS].len, 16);
    CU_ASSERT_EQUAL(u32(s[TEXTDICTS].p), 0);
    CU_ASSERT_EQUAL(u32(s[TEXTDICTS].p + 4), 0);
    CU_ASSERT_EQUAL(u64(s[TEXTDICTS].p + 8), 0);
    CU_ASSERT_EQUAL_FATAL(s[TEXTIDX].len, 16);
    CU_ASSERT_EQUAL(u64(s[TEXTIDX].p), 0);
    CU_ASSERT_EQUAL(u32(s[TEXTIDX].p + 8), s[TEXTS].len);
    CU_ASSERT_EQUAL(u32(s[TEXTIDX].p + 12), strlen(TEXT));
    {
        char out[256];
        z_stream z;

        memset(&z, 0, sizeof z);
        CU_ASSERT_FATAL(inflateInit2(&z, -15) == Z_OK);
        z.next_in = (Bytef *)s[TEXTS].p;
        z.avail_in = (uInt)s[TEXTS].len;
        z.next_out = (Bytef *)out;
        z.avail_out = sizeof out;
        CU_ASSERT_EQUAL(inflate(&z, Z_FINISH), Z_STREAM_END);
        CU_ASSERT_EQUAL(z.total_out, strlen(TEXT));
        CU_ASSERT_EQUAL(memcmp(out, TEXT, strlen(TEXT)), 0);
        inflateEnd(&z);
    }

    /* ARTICLES and ASTR: "fmt-1" NUL "" NUL url NUL */
    CU_ASSERT_EQUAL_FATAL(s[ARTICLES].len, 32);
    CU_ASSERT_EQUAL(u32(s[ARTICLES].p), 0);
    CU_ASSERT_EQUAL(u32(s[ARTICLES].p + 4), 1);
    CU_ASSERT_EQUAL((int32_t)u32(s[ARTICLES].p + 8), DAYS_2025_04_03);
    CU_ASSERT_EQUAL(u32(s[ARTICLES].p + 12), 0);
    CU_ASSERT_EQUAL(u64(s[ARTICLES].p + 16), 0);
    CU_ASSERT_EQUAL(u32(s[ARTICLES].p + 24), s[ASTR].len);
    CU_ASSERT_EQUAL((int32_t)u32(s[ARTICLES].p + 28), -1);
    CU_ASSERT_EQUAL_FATAL(s[ASTR].len, 6 + 1 + 22);
    CU_ASSERT_EQUAL(memcmp(s[ASTR].p, "fmt-1\0\0https://example.org/z", 29),
                    0);

    /* IDS: FNV-1a 64 of "fmt-1" from the segment's basis, article 0 */
    CU_ASSERT_EQUAL_FATAL(s[IDS].len, 16);
    h = 1469598103934665603ULL;
    for (i = 0; i < 5; i++) {
        h ^= (unsigned char)"fmt-1"[i];
        h *= 0x100000001b3ULL;
    }
    CU_ASSERT_EQUAL(u64(s[IDS].p), h);
    CU_ASSERT_EQUAL(u32(s[IDS].p + 8), 0);
    CU_ASSERT_EQUAL(u32(s[IDS].p + 12), 0);

    /* SOURCES: the display name, then a key filling the rest */
    CU_ASSERT_FATAL(s[SOURCES].len >= 4 + 11 + 4);
    CU_ASSERT_EQUAL(u32(s[SOURCES].p), 11);
    CU_ASSERT_EQUAL(memcmp(s[SOURCES].p + 4, "Format Wire", 11), 0);
    CU_ASSERT_EQUAL(4 + 11 + 4 + u32(s[SOURCES].p + 15), s[SOURCES].len);
    free(f);
}

/* ---- postings blocks ---------------------------------------------------- */

#define PF_ARTICLES 300
#define PF_HOLE_FROM 150 /* articles without "alpha": a wide gap */
#define PF_HOLE_TO 200
#define PF_MANY 10       /* the article with "alpha" PF_WDF times */
#define PF_WDF 40

/* Bits a value needs (0 for 0). */
static unsigned
bits_of(uint64_t v)
{
    unsigned b = 0;

    while (v >> b)
        b++;
    return b;
}

/* Bits [bit, bit + width) of p, least significant first. */
static uint64_t
bits_at(const unsigned char *p, uint64_t bit, unsigned width)
{
    uint64_t v = 0;
    unsigned k;

    for (k = 0; k < width; k++, bit++)
        v |= (uint64_t)((p[bit / 8] >> (bit % 8)) & 1) << k;
    return v;
}

/* The section table of a whole segment file f of len bytes (checked by
 * test_format_segment_decodes_as_described). */
static void
sections(const unsigned char *f, size_t len, sec *s)
{
    uint64_t toc_off = u64(f + len - 16);
    size_t i;

    for (i = 1; i <= NSEC; i++) {
        const unsigned char *e = f + toc_off + (i - 1) * 24;

        s[i].p = f + u64(e + 8);
        s[i].len = u64(e + 16);
    }
}

/* Finds term's DICT entry, walking every entry as FORMAT says (offsets
 * absolute at each block's first entry): 1 with its fields, or 0. */
static int
dict_find(const sec *s, const char *want, uint64_t *df, uint64_t *post_off,
          uint64_t *post_len)
{
    const unsigned char *p = s[DICT].p, *end = p + s[DICT].len;
    char term[256] = "";
    uint64_t exp_post = 0, n = 0;

    while (p < end) {
        uint64_t shared = varint(&p), rest = varint(&p), dfp, off, bytes;

        if (n % 64 == 0)
            exp_post = 0;
        CU_ASSERT_FATAL(shared + rest < sizeof term);
        memcpy(term + shared, p, rest);
        term[shared + rest] = '\0';
        p += rest;
        dfp = varint(&p);
        off = (uint64_t)((int64_t)exp_post + unzigzag(varint(&p)));
        bytes = varint(&p);
        (void)varint(&p); /* positions offset */
        exp_post = off + bytes;
        n++;
        if (strcmp(term, want) == 0) {
            *df = dfp >> 1;
            *post_off = off;
            *post_len = bytes;
            return 1;
        }
    }
    return 0;
}

/* Reads one packed run of n values at width bits from *p into v. */
static void
read_run(const unsigned char **p, unsigned bits, uint32_t n, uint64_t *v)
{
    uint32_t k;

    for (k = 0; k < n; k++)
        v[k] = bits_at(*p, (uint64_t)k * bits, bits);
    *p += ((size_t)n * bits + 7) / 8;
}

/* "alpha" is in every article but those of a hole, once, and PF_WDF
 * times in one: a list of two blocks with skip entries, decoded here by
 * hand; the block of the hole packs its gaps at the hole's width, the
 * block of the many its wdfs at the width of PF_WDF - 1. */
static void
test_format_postings_blocks_decode_as_described(void)
{
    char dir[400], id[32], url[64], text[600], path[700];
    ndx_index *ix = NULL;
    ndx_engine_config cfg;
    ndx_article a;
    uint32_t want_ids[PF_ARTICLES], want_wdf[PF_ARTICLES], nwant = 0, i;
    uint64_t df = 0, off = 0, bytes = 0, blocks, b, got = 0, prev_last = 0;
    const unsigned char *q, *skip = NULL, *data;
    unsigned char *f;
    size_t len;
    sec s[NSEC + 1];
    uint64_t wdf_max = 0, gap_max = 0, widest;
    int64_t last_id = -1;

    snprintf(dir, sizeof dir, "%s/fmt-pfor.idx", t_tmpdir());
    /* the texts are alike: none may be folded into another */
    ndx_engine_config_init(&cfg);
    cfg.keep_duplicates = 1;
    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_WRITE, "native",
                                   &cfg) == NDX_OK);
    for (i = 0; i < PF_ARTICLES; i++) {
        int o;

        memset(&a, 0, sizeof a);
        snprintf(id, sizeof id, "pf-%u", (unsigned)i);
        snprintf(url, sizeof url, "https://example.org/pf/%u", (unsigned)i);
        /* a word of its own (q and the number in letters) keeps each
         * text unique; a sentence, which cleaning keeps */
        o = snprintf(text, sizeof text, "Reporters filed story q%c%c%c about "
                     "the river crossing near the old mill at dawn",
                     'a' + (i % 26), 'a' + (i / 26 % 26), 'a' + (i / 676));
        if (i < PF_HOLE_FROM || i >= PF_HOLE_TO) {
            uint32_t k, times = i == PF_MANY ? PF_WDF : 1;

            for (k = 0; k < times; k++)
                o += snprintf(text + o, sizeof text - (size_t)o, " alpha");
            want_ids[nwant] = i; /* one passage an article */
            want_wdf[nwant++] = times;
        }
        o += snprintf(text + o, sizeof text - (size_t)o, ".");
        a.id = id;
        a.source = "Format Wire";
        a.title = "";
        a.url = url;
        a.lang = "";
        a.date_days = DAYS_2025_04_03 + (int32_t)i;
        a.time_secs = -1;
        a.text = text;
        a.text_len = (size_t)o;
        CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    }
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);

    f = read_segment(dir, &len);
    sections(f, len, s);
    CU_ASSERT_EQUAL(u64(s[META].p), PF_ARTICLES); /* passages */
    CU_ASSERT_FATAL(dict_find(s, "alpha", &df, &off, &bytes));
    CU_ASSERT_EQUAL_FATAL(df, nwant);
    q = s[POSTINGS].p + off;
    blocks = (df + 127) / 128;
    CU_ASSERT_FATAL(blocks > 1);
    skip = q + 0;
    {
        uint64_t skip_bytes = varint(&skip);

        data = skip + skip_bytes;
    }
    for (b = 0; b < blocks; b++) {
        uint32_t n = (uint32_t)(df - b * 128 < 128 ? df - b * 128 : 128);
        uint64_t last_delta = varint(&skip), data_bytes = varint(&skip);
        uint64_t imp_bytes = varint(&skip), gaps[128], wdfs[128], first;
        const unsigned char *p = data, *x;
        unsigned g, w;
        uint32_t k;

        skip += imp_bytes;
        first = varint(&p);
        g = p[0];
        w = p[1];
        p += 2;
        CU_ASSERT_FATAL(g <= 32 && w <= 31);
        read_run(&p, g, n - 1, gaps);
        read_run(&p, w, n, wdfs);
        x = p;
        /* each run at its widest value's width */
        for (k = 0, widest = 0; k + 1 < n; k++)
            widest = gaps[k] > widest ? gaps[k] : widest;
        CU_ASSERT_EQUAL(g, bits_of(widest));
        gap_max = widest > gap_max ? widest : gap_max;
        for (k = 0, widest = 0; k < n; k++)
            widest = wdfs[k] > widest ? wdfs[k] : widest;
        CU_ASSERT_EQUAL(w, bits_of(widest));
        wdf_max = widest > wdf_max ? widest : wdf_max;
        CU_ASSERT_EQUAL_FATAL(x, data + data_bytes);
        for (k = 0; k < n; k++) {
            int64_t idv = k == 0 ? last_id + 1 + (int64_t)first
                                 : last_id + 1 + (int64_t)gaps[k - 1];

            CU_ASSERT_EQUAL_FATAL(idv, (int64_t)want_ids[got]);
            CU_ASSERT_EQUAL(wdfs[k] + 1, want_wdf[got]);
            last_id = idv;
            got++;
        }
        CU_ASSERT_EQUAL(prev_last + last_delta, (uint64_t)last_id);
        prev_last = (uint64_t)last_id;
        data += data_bytes;
    }
    CU_ASSERT_EQUAL(got, nwant);
    CU_ASSERT_EQUAL(data, q + bytes);
    /* the hole's gap and the many's wdf were met */
    CU_ASSERT_EQUAL(gap_max, (uint64_t)(PF_HOLE_TO - PF_HOLE_FROM));
    CU_ASSERT_EQUAL(wdf_max, PF_WDF - 1);
    free(f);

    /* and the reader: every posting counted, the many ranked first */
    {
        ndx_index *r = NULL;
        ndx_results *res = NULL;
        ndx_search_opts o;

        snprintf(path, sizeof path, "%s", dir);
        CU_ASSERT_FATAL(ndx_index_open(&r, path, NDX_OPEN_READ, NULL, NULL) ==
                        NDX_OK);
        ndx_search_opts_init(&o);
        o.k = 1;
        o.exact_total = 1;
        CU_ASSERT_FATAL(ndx_index_search(r, "alpha", &o, &res, NULL) ==
                        NDX_OK);
        CU_ASSERT_EQUAL(res->total, nwant);
        CU_ASSERT_FATAL(res->count == 1);
        snprintf(id, sizeof id, "pf-%u", (unsigned)PF_MANY);
        CU_ASSERT_STRING_EQUAL(res->hits[0].article, id);
        ndx_results_free(res);
        ndx_index_close(r);
    }
}

CU_TestInfo format_tests[] = {
    {"test_format_segment_decodes_as_described",
     test_format_segment_decodes_as_described},
    {"test_format_postings_blocks_decode_as_described",
     test_format_postings_blocks_decode_as_described},
    {"test_format_manifest_and_engine_files_are_as_described",
     test_format_manifest_and_engine_files_are_as_described},
    CU_TEST_INFO_NULL,
};
