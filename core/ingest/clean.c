/*
 * clean.c - page furniture: lines that scraping leaves behind and that are
 * not article text.
 *
 * BUILT-IN RULES.  A line is compared after normalisation: ASCII case
 * folded, white space collapsed, curly apostrophes made straight, "..." for
 * an ellipsis, and leading bullets, dashes, asterisks and emoji removed
 * ("🎙️ Voice is AI-generated" is compared as "voice is ai-generated").
 * "Core" below is that text without trailing ". ! ? : * ..." characters.
 *   1. A line with no letter or digit ("-", "***", "• • •", "___").
 *   2. A core equal to a known widget or navigation label: rating widgets
 *      ("How useful was this article?", "Click on a star to rate it!",
 *      "No votes so far! Be the first to rate this article."),
 *      "Previous Article", "Next Article", "Menu", "Latest News",
 *      "Top Stories", "Read more", "Advertisement", "Story Continued
 *      Below", "fairness meter", "About the writer", "Story highlights",
 *      share buttons ("Share", "Tweet", "Email", "WhatsApp"), "Loading...",
 *      "Close", "Photo", "Video", "Related", "Trending", "Sign up",
 *      "Subscribe", and the like (see exact_lines below).
 *   3. Link and caption lines by their start: "Read more: ...", "Related:
 *      ...", "See also: ...", "Watch: ...", "Enlarge this image ...",
 *      "Slideshow (3 images)", "Next image 1 of 2", "Average rating 0 / 5.
 *      Vote count: 0", "Top Story..." (a section tag run into the next
 *      word, "Top StoryUS"), "More on US News" (at most five words),
 *      "Follow @...", "Click here ..." and "Copyright ©..." / "© ..."
 *      notices (short ones), "Listen to this article".
 *   4. Notices found anywhere in a line of at most 100 words: audio
 *      notices ("Voice is AI-generated. Inconsistencies may occur."),
 *      newsletter boxes (a sign-up or subscribe word together with
 *      "newsletter", "inbox" or "emails": "Sign up to our free breaking news
 *      emails"), "Story Continued Below", "toggle caption", "click here for
 *      reprint permission", rating widget text.
 *   5. A truncated teaser or bio that ends in "... Read more".
 *   6. A time stamp line such as "6 years ago".
 * Rules that need the neighbouring lines (the bio after "About the
 * writer", the headline after "Next Article", short navigation lines with
 * nothing to head, teasers before a sign-up box) live in passages.c.
 *
 * LEARNED LINES.  An ndx_cleaner counts, per source, in how many articles
 * each line occurs (a line counts once per article; lines above 64 words
 * are never furniture and are not counted).  To keep memory modest on big
 * corpora, a line enters the counting table only on its second sighting: a
 * 2 MiB bit filter remembers first sightings, so the millions of lines
 * that occur once cost no memory of their own.  Only 64-bit hashes are kept
 * for the counting; a line that reaches NOTE_AT articles of its source is
 * noted with its word count and (for the first few thousand) its text.
 * _freeze keeps the lines seen in at least min_articles articles and
 * either in at least share of the source's articles or, when they have at
 * least REPEAT_WORDS words, in at least REPEAT_ARTICLES articles (the
 * repeat rule, see is_learned), and frees the counts; afterwards the
 * cleaner is read only and may be shared between threads.
 *
 * KEPT LINES.  _save writes the learned set into an index directory and
 * _load adds a saved set to a frozen cleaner, so that a run that adds to
 * an index (a day's articles, too few for a line to repeat often enough)
 * still drops the furniture that earlier runs learned.
 *
 * FORMAT of INDEX/FURNITURE (binary, version 1): magic "NDXFURN\n",
 * u32 version, u32 0, u64 count, count x u64 keys (ascending), u32 crc32
 * of everything before it; integers little-endian.  A key mixes the
 * source's id and the line's hash (pair_key below), so a change to
 * ndx_clean_line_hash, ndx_cleaner_source_id or pair_key needs a new
 * version.  It is replaced atomically (FURNITURE.tmp, fsync, rename).
 *
 * The module judges lines; splitting text into passages is passages.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#include <zlib.h>

#include "clean.h"
#include "newsdex/ingest.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/hash.h"

#define FURN_MAGIC "NDXFURN\n"
#define FURN_VERSION 1

/* Normalised bytes compared by the built-in rules; longer lines are judged
 * by their first NORM_CAP bytes (every rule looks at the start or at short
 * lines). */
#define NORM_CAP 640

/* Lines above this many words are article text, never learned furniture
 * (clean.h). */
#define LEARN_MAX_WORDS NDX_CLEAN_LEARN_MAX_WORDS

/* The repeat rule (is_learned): lines of at least REPEAT_WORDS words in at
 * least REPEAT_ARTICLES articles of one source. */
#define REPEAT_WORDS 6
#define REPEAT_ARTICLES 10

/* A line is noted (its word count, and for the first NOTE_TEXT_MAX lines
 * up to NOTE_TEXT_LEN bytes of its text) when it reaches NOTE_AT articles
 * of its source: the repeat rule needs the word count and the summary
 * shows the text of the most frequent learned lines. */
#define NOTE_AT 5
#define NOTE_TEXT_MAX 8192
#define NOTE_TEXT_LEN 200

/* First-sighting filter: 2^24 bits (2 MiB), two probes per line. */
#define FILTER_BITS 24

static const char *const exact_lines[] = {
    "about the author",
    "about the writer",
    "ad",
    "ad feedback",
    "advertisement",
    "advertisement continue reading the main story",
    "advertisement - story continues below",
    "back to top",
    "click on a star to rate it",
    "close",
    "comments",
    "continue reading",
    "continue reading the main story",
    "email",
    "enlarge this image",
    "facebook",
    "fairness meter",
    "how useful was this article",
    "image",
    "latest",
    "latest news",
    "leave a comment",
    "linkedin",
    "listen",
    "listen to this article",
    "loading",
    "log in",
    "manage newsletters",
    "menu",
    "more on this",
    "more stories",
    "most popular",
    "most read",
    "next",
    "next article",
    "next post",
    "no votes so far! be the first to rate this article",
    "photo",
    "previous",
    "previous article",
    "previous post",
    "print",
    "read more",
    "read more here",
    "recommended",
    "related",
    "related articles",
    "related content",
    "related stories",
    "share",
    "share on facebook",
    "share on twitter",
    "share this",
    "share this article",
    "sign in",
    "sign up",
    "sign up for daily newsletters",
    "sign up for daily newsletters manage newsletters",
    "skip to content",
    "skip to main content",
    "story continued below",
    "story continues below",
    "story highlights",
    "subscribe",
    "subscribe now",
    "this article is more than 1 year old",
    "toggle caption",
    "top stories",
    "top story",
    "trending",
    "trending now",
    "tweet",
    "twitter",
    "video",
    "watch",
    "whatsapp",
    "youtube",
    "[pullquote]",
};

/* Prefixes of furniture lines of any length up to 100 words. */
static const char *const prefix_lines[] = {
    "read more:",        "read more -",       "read more |",
    "read more at ",     "read more about ",  "related:",
    "see also:",         "also read:",        "watch:",
    "enlarge this image", "slideshow (",      "next image ",
    "prev image ",       "previous image ",   "listen to this article",
    "average rating ",   "follow us on ",
};

/* Fragments that make a line furniture wherever they occur. */
static const char *const contained[] = {
    "voice is ai-generated",
    "inconsistencies may occur",
    "story continued below",
    "toggle caption",
    "click here for reprint permission",
    "click on a star to rate",
    "be the first to rate this",
    "breaking news emails",
    "manage newsletters",
};

static int
is_ascii_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}

static int
is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
           || c == '\v';
}

static int
letter_or_digit(utf8proc_int32_t cp)
{
    utf8proc_category_t cat = utf8proc_category(cp);

    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)
           || (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/*
 * Normalises a line into out (cap bytes, NUL-terminated): see the file
 * comment.  lead_strip removes leading bullets and symbols.  Sets
 * *has_alnum when the line holds any letter or digit.  Returns the length.
 */
static size_t
normalise(const char *line, size_t len, char *out, size_t cap, int lead_strip,
          int *has_alnum)
{
    const unsigned char *p = (const unsigned char *)line;
    size_t i = 0, n = 0;
    int started = !lead_strip, space = 0;

    *has_alnum = 0;
    while (i < len && n + 4 < cap) {
        unsigned char c = p[i];
        utf8proc_int32_t cp = -1;
        utf8proc_ssize_t k = 1;

        if (c >= 0x80) {
            k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
            if (k <= 0) {
                k = 1;
                cp = -1;
            }
        }
        if (c < 0x80 ? is_blank(c) : cp == 0xA0) {
            space = started;
            i += (size_t)k;
            continue;
        }
        if (c < 0x80 ? is_ascii_alnum(c) : (cp >= 0 && letter_or_digit(cp)))
            *has_alnum = 1;
        if (!started) {
            int keep;
            if (c < 0x80)
                keep = is_ascii_alnum(c) || c == '[' || c == '(' || c == '"'
                       || c == '\'';
            else
                keep = cp == 0xA9 || (cp >= 0 && letter_or_digit(cp));
            if (!keep) {
                i += (size_t)k;
                continue;
            }
            started = 1;
        }
        if (space) {
            out[n++] = ' ';
            space = 0;
        }
        if (c < 0x80) {
            out[n++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        } else if (cp == 0x2019 || cp == 0x2018) {
            out[n++] = '\'';
        } else if (cp == 0x2026) {
            out[n++] = '.';
            out[n++] = '.';
            out[n++] = '.';
        } else {
            memcpy(out + n, p + i, (size_t)k);
            n += (size_t)k;
        }
        i += (size_t)k;
    }
    /* A cut line still needs has_alnum right for rule 1. */
    for (; i < len && !*has_alnum; i++)
        if (is_ascii_alnum(p[i]) || p[i] >= 0x80)
            *has_alnum = 1;
    out[n] = '\0';
    return n;
}

/* Byte classes for counting words: 1 white space, 2 a byte that makes a
 * run of non-blank bytes a word (ASCII letters and digits, and non-ASCII
 * lead bytes but 0xE2, see count_words), 4 0xC2, which with 0xA0 after it
 * is a no-break space. */
static const unsigned char word_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x40 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, /* 0x50 */
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x60 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, /* 0x70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
    0, 0, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xC0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xD0 */
    2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xE0 */
    2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

/*
 * Counts words as ndx_clean_word_count does, but stops once the count
 * exceeds limit: callers that only ask "more than N words?" of a long
 * paragraph read its first N words, not all of it.
 *
 * A word is a run of non-blank bytes with a letter or digit in it; a lead
 * byte 0xE2 starts punctuation and symbols (U+2000-U+2FFF: dashes,
 * bullets, quotes), any other non-ASCII lead byte is taken as a letter.
 * The loop is branch free but for the no-break space: word boundaries
 * come every few bytes and cannot be predicted, and the branching version
 * took half again as long on news text.
 */
static unsigned
count_words(const char *line, size_t len, unsigned limit)
{
    const unsigned char *p = (const unsigned char *)line;
    unsigned words = 0, counted = 0; /* counted: this run is counted */
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned cls = word_class[p[i]], word;

        if ((cls & 4) && i + 1 < len && p[i + 1] == 0xA0) {
            counted = 0; /* no-break space */
            i++;
            continue;
        }
        word = (cls >> 1) & 1;
        words += word & ~counted;
        counted = (counted | word) & ~cls;
        if (words > limit)
            break;
    }
    return words;
}

unsigned
ndx_clean_word_count(const char *line, size_t len)
{
    return count_words(line, len, UINT_MAX);
}

static int
starts_with(const char *s, const char *pre)
{
    return strncmp(s, pre, strlen(pre)) == 0;
}

static int
ends_with(const char *s, size_t len, const char *suf)
{
    size_t n = strlen(suf);

    return len >= n && memcmp(s + len - n, suf, n) == 0;
}

/* "6 years ago", "1 hour ago". */
static int
is_time_ago(const char *s)
{
    static const char *const units[] = {"year", "month", "week", "day",
                                        "hour", "minute"};
    size_t i;

    if (!(*s >= '0' && *s <= '9'))
        return 0;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s++ != ' ')
        return 0;
    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i]);
        if (strncmp(s, units[i], n) == 0) {
            s += n;
            if (*s == 's')
                s++;
            return strcmp(s, " ago") == 0;
        }
    }
    return 0;
}

int
ndx_clean_is_furniture(const char *line, size_t len)
{
    return ndx_clean_line_kind(line, len) != NDX_LINE_TEXT;
}

int
ndx_clean_line_kind(const char *line, size_t len)
{
    if (!line)
        return NDX_LINE_TEXT;
    return ndx_clean_line_kind_words(line, len, count_words(line, len, 100));
}

int
ndx_clean_line_kind_words(const char *line, size_t len, unsigned words)
{
    char norm[NORM_CAP];
    char core[NORM_CAP];
    size_t n, cn, i;
    int has_alnum;

    /* Every rule is about lines of at most 100 words. */
    if (!line || words > 100)
        return NDX_LINE_TEXT;
    n = normalise(line, len, norm, sizeof norm, 1, &has_alnum);
    if (!has_alnum) {
        for (i = 0; i < len; i++)
            if (!is_blank((unsigned char)line[i]))
                return NDX_LINE_FURNITURE;
        return NDX_LINE_TEXT;
    }

    memcpy(core, norm, n + 1);
    cn = n;
    while (cn > 0 && strchr(" .!?:*", core[cn - 1]))
        core[--cn] = '\0';

    if (strcmp(core, "about the writer") == 0
        || strcmp(core, "about the author") == 0)
        return NDX_LINE_BIO_NEXT;
    if (strcmp(core, "previous article") == 0
        || strcmp(core, "next article") == 0
        || strcmp(core, "previous post") == 0
        || strcmp(core, "next post") == 0)
        return NDX_LINE_LINK_NEXT;
    /* The exact lines have at most ten words. */
    for (i = 0; words <= 10 && i < sizeof exact_lines / sizeof exact_lines[0];
         i++)
        if (strcmp(core, exact_lines[i]) == 0)
            return NDX_LINE_FURNITURE;
    for (i = 0; i < sizeof prefix_lines / sizeof prefix_lines[0]; i++)
        if (starts_with(norm, prefix_lines[i]))
            return NDX_LINE_FURNITURE;
    for (i = 0; i < sizeof contained / sizeof contained[0]; i++)
        if (strstr(norm, contained[i]))
            return NDX_LINE_FURNITURE;

    /* Newsletter boxes: a sign-up word and a mail word. */
    if (words <= 60
        && (strstr(norm, "sign up") || strstr(norm, "signing up")
            || strstr(norm, "subscribe"))
        && (strstr(norm, "newsletter") || strstr(norm, "inbox")
            || strstr(norm, "emails")))
        return NDX_LINE_FURNITURE;

    /* "Top StoryUS": a section tag run into the next word. */
    if (starts_with(norm, "top story") && words <= 3)
        return NDX_LINE_FURNITURE;
    /* "More on US News". */
    if (starts_with(norm, "more on ") && words <= 5)
        return NDX_LINE_FURNITURE;
    if (starts_with(norm, "follow @") && words <= 8)
        return NDX_LINE_FURNITURE;
    if ((starts_with(norm, "click here") || starts_with(norm, "copyright ")
         || starts_with(norm, "\xc2\xa9"))
        && words <= 25)
        return NDX_LINE_FURNITURE;
    if (words <= 25 && strstr(norm, "all rights reserved"))
        return NDX_LINE_FURNITURE;

    /* A teaser or bio cut off with "... Read more". */
    if (ends_with(core, cn, "... read more")
        || ends_with(core, cn, "...read more"))
        return NDX_LINE_FURNITURE;
    if (is_time_ago(core))
        return NDX_LINE_FURNITURE;
    return NDX_LINE_TEXT;
}

/* ---- hashing ------------------------------------------------------------- */

/*
 * Line hashes.  The normalised bytes are gathered eight at a time into a
 * word, little end first, and each word is mixed into the hash; the length
 * is mixed in at the end.  Whole article texts are hashed this way for
 * duplicate detection, in both passes of the indexer, so the common case
 * is taken eight bytes at a time: a run of eight printable ASCII bytes
 * whose only white space is single spaces inside the run normalises to
 * itself with A-Z folded, which one word operation does.  Anything else
 * (a blank run, a control byte, UTF-8) goes byte by byte.  Learned line
 * hashes are kept in an index's FURNITURE file (see KEPT LINES above), so
 * a change to this hash needs that file's version bumped.
 */
#define BYTES_1 0x0101010101010101ULL
#define BYTES_80 0x8080808080808080ULL

typedef struct line_hasher {
    uint64_t h;   /* hash so far */
    uint64_t acc; /* normalised bytes not yet mixed, low byte first */
    unsigned k;   /* bytes in acc */
    size_t n;     /* normalised bytes */
} line_hasher;

static inline void
hasher_word(line_hasher *s, uint64_t w)
{
    uint64_t h = s->h ^ (w * 0x9e3779b97f4a7c15ULL);

    s->h = ((h << 31) | (h >> 33)) * 0xbf58476d1ce4e5b9ULL;
}

static inline void
hasher_byte(line_hasher *s, unsigned char c)
{
    s->acc |= (uint64_t)c << (8 * s->k);
    s->n++;
    if (++s->k == 8) {
        hasher_word(s, s->acc);
        s->acc = 0;
        s->k = 0;
    }
}

static inline void
hasher_word8(line_hasher *s, uint64_t w)
{
    if (s->k == 0) {
        hasher_word(s, w);
    } else {
        hasher_word(s, s->acc | w << (8 * s->k));
        s->acc = w >> (64 - 8 * s->k);
    }
    s->n += 8;
}

static inline uint64_t
load_u64le(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16
           | (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32
           | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48
           | (uint64_t)p[7] << 56;
}

/* Whether the eight bytes of w normalise to themselves (A-Z aside): all
 * of them 0x20-0x7F, no space first or last, no two spaces together. */
static inline int
plain8(uint64_t w)
{
    uint64_t x = w ^ (0x20 * BYTES_1), sp;

    if (w & BYTES_80)
        return 0;
    if ((w - 0x20 * BYTES_1) & ~w & BYTES_80)
        return 0; /* a byte below 0x20 */
    /* 0x80 in every byte of w that is a space. */
    sp = ~(((x & ~BYTES_80) + ~BYTES_80) | x | ~BYTES_80);
    return !(sp & 0x80) && !(sp >> 56) && !(sp & (sp << 8));
}

/* Folds A-Z in eight ASCII bytes. */
static inline uint64_t
fold8(uint64_t w)
{
    uint64_t upper = (w + 0x3F * BYTES_1) & ~(w + 0x25 * BYTES_1) & BYTES_80;

    return w | upper >> 2;
}

uint64_t
ndx_clean_line_hash(const char *line, size_t len)
{
    const unsigned char *p = (const unsigned char *)line;
    line_hasher s = {NDX_FNV1A64_BASIS, 0, 0, 0};
    size_t i = 0;
    int space = 0;
    uint64_t h;

    /* Streams the normalisation of normalise() (without the leading strip)
     * so that long lines hash completely. */
    while (i < len) {
        unsigned char c = p[i], o;
        size_t k = 1;

        if (len - i >= 8) {
            uint64_t w = load_u64le(p + i);

            if (plain8(w)) {
                if (space) {
                    hasher_byte(&s, ' ');
                    space = 0;
                }
                hasher_word8(&s, fold8(w));
                i += 8;
                continue;
            }
        }
        if (is_blank(c) || (c == 0xC2 && i + 1 < len && p[i + 1] == 0xA0)) {
            space = s.n > 0;
            i += c == 0xC2 ? 2 : 1;
            continue;
        }
        if (c == 0xE2 && i + 2 < len && p[i + 1] == 0x80
            && (p[i + 2] == 0x98 || p[i + 2] == 0x99)) {
            o = '\'';
            k = 3;
        } else {
            o = (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
        if (space) {
            hasher_byte(&s, ' ');
            space = 0;
        }
        hasher_byte(&s, o);
        i += k;
    }
    if (s.n == 0)
        return 0;
    hasher_word(&s, s.acc);
    h = ndx_mix64(s.h ^ (uint64_t)s.n);
    return h ? h : 1;
}

uint64_t
ndx_cleaner_source_id(const char *source)
{
    char key[256];
    size_t n = ndx_source_key(source ? source : "", key, sizeof key);

    return ndx_mix64(ndx_fnv1a64(key, n) ^ 0x5ca1ab1eULL);
}

static uint64_t
pair_key(uint64_t source_id, uint64_t line_hash)
{
    uint64_t k = ndx_mix64(source_id ^ (line_hash * 0x9e3779b97f4a7c15ULL));

    return k ? k : 1;
}

/* ---- the cleaner --------------------------------------------------------- */

typedef struct src_entry {
    uint64_t id;       /* ndx_cleaner_source_id */
    uint32_t articles; /* articles learned from this source */
} src_entry;

typedef struct source_slot {
    uint64_t id;  /* ndx_cleaner_source_id, the table's key */
    size_t index; /* into sources */
} source_slot;

/* A line that reached NOTE_AT articles of its source: its word count
 * (for the repeat rule) and, for the first NOTE_TEXT_MAX such lines, its
 * text and source (for the summary). */
typedef struct noted_line {
    uint64_t key;     /* pair_key(source, line) */
    uint32_t words;   /* ndx_clean_word_count of the line */
    uint32_t count;   /* articles holding it, filled by _freeze */
    char *text;       /* "source\0line" or NULL */
} noted_line;

typedef struct count_entry {
    uint64_t key;    /* pair_key(source, line), the table's key */
    uint32_t count;  /* articles holding the line */
    uint32_t source; /* index into sources */
} count_entry;

struct ndx_cleaner {
    src_entry *sources;   /* learned sources */
    size_t source_count;  /* entries */
    size_t source_cap;    /* allocated entries */
    ndx_htab source_map;  /* source_slot entries by source id */

    unsigned char *filter; /* first sightings, 1 << FILTER_BITS bits */
    ndx_htab counts;       /* count_entry: lines seen twice or more */

    ndx_htab learned;      /* uint64_t furniture keys after freeze */

    noted_line *noted;    /* lines seen in NOTE_AT articles; sorted by
                             count after _freeze, only the learned ones */
    size_t noted_count;   /* entries */
    size_t noted_cap;     /* allocated entries */

    uint64_t *scratch;    /* line hashes of one article */
    size_t scratch_cap;   /* allocated entries */
    int frozen;           /* 1 after _freeze */
};

static void
noted_free(ndx_cleaner *c)
{
    size_t i;

    for (i = 0; i < c->noted_count; i++)
        free(c->noted[i].text);
    free(c->noted);
    c->noted = NULL;
    c->noted_count = c->noted_cap = 0;
}

ndx_status
ndx_cleaner_new(ndx_cleaner **out)
{
    ndx_cleaner *c = calloc(1, sizeof *c);

    *out = NULL;
    if (!c)
        return ndx_error(NDX_ENOMEM, "out of memory (cleaner)");
    ndx_htab_init(&c->source_map, sizeof(source_slot), 64, 50);
    ndx_htab_init(&c->counts, sizeof(count_entry), 4096, 70);
    ndx_htab_init(&c->learned, sizeof(uint64_t), 16, 50);
    *out = c;
    return NDX_OK;
}

void
ndx_cleaner_free(ndx_cleaner *c)
{
    if (!c)
        return;
    free(c->sources);
    ndx_htab_free(&c->source_map);
    free(c->filter);
    ndx_htab_free(&c->counts);
    ndx_htab_free(&c->learned);
    free(c->scratch);
    noted_free(c);
    free(c);
}

/* The index of a source, added when new; -1 on allocation failure. */
static long
source_index(ndx_cleaner *c, uint64_t id)
{
    source_slot *e = ndx_htab_get(&c->source_map, id);

    if (e)
        return (long)e->index;
    if (ndx_grow((void **)&c->sources, &c->source_cap, c->source_count + 1,
                 sizeof *c->sources, 32) ||
        !(e = ndx_htab_add(&c->source_map, id))) {
        ndx_error(NDX_ENOMEM, "out of memory (cleaner sources)");
        return -1;
    }
    e->index = c->source_count;
    c->sources[c->source_count].id = id;
    c->sources[c->source_count].articles = 0;
    return (long)c->source_count++;
}

/* Records one sighting of key for source index src; *count receives the
 * articles that hold it now (1 on a first sighting). */
static ndx_status
count_line(ndx_cleaner *c, uint64_t key, uint32_t src, uint32_t *count)
{
    size_t b1 = (size_t)(key & ((1u << FILTER_BITS) - 1));
    size_t b2 = (size_t)((key >> 32) & ((1u << FILTER_BITS) - 1));
    count_entry *e;
    int added;

    if (!((c->filter[b1 >> 3] >> (b1 & 7)) & 1)
        || !((c->filter[b2 >> 3] >> (b2 & 7)) & 1)) {
        c->filter[b1 >> 3] |= (unsigned char)(1u << (b1 & 7));
        c->filter[b2 >> 3] |= (unsigned char)(1u << (b2 & 7));
        *count = 1;
        return NDX_OK;
    }
    e = ndx_htab_put(&c->counts, key, &added);
    if (!e)
        return ndx_error(NDX_ENOMEM, "out of memory (cleaner counts)");
    if (added) {
        e->count = 1; /* the sighting the filter remembered */
        e->source = src;
    }
    if (e->count < UINT32_MAX)
        e->count++;
    *count = e->count;
    return NDX_OK;
}

/* Notes the line of text whose hash is h (it just reached NOTE_AT articles
 * of its source): its word count, and its text while there is room. */
static ndx_status
note_line(ndx_cleaner *c, uint64_t key, uint64_t h, const char *source,
          const char *text, size_t text_len)
{
    size_t i = 0;
    noted_line *n;

    if (ndx_grow((void **)&c->noted, &c->noted_cap, c->noted_count + 1,
                 sizeof *c->noted, 256))
        return ndx_error(NDX_ENOMEM, "out of memory (cleaner)");
    n = &c->noted[c->noted_count];
    memset(n, 0, sizeof *n);
    n->key = key;
    while (i < text_len) {
        const char *nl = memchr(text + i, '\n', text_len - i);
        size_t start = i, end = nl ? (size_t)(nl - text) : text_len;

        i = end + 1;
        if (ndx_clean_line_hash(text + start, end - start) != h)
            continue;
        n->words = ndx_clean_word_count(text + start, end - start);
        if (c->noted_count < NOTE_TEXT_MAX) {
            size_t sl = strlen(source), ll = end - start;

            if (ll > NOTE_TEXT_LEN)
                ll = NOTE_TEXT_LEN;
            n->text = malloc(sl + ll + 2);
            if (!n->text)
                return ndx_error(NDX_ENOMEM, "out of memory (cleaner)");
            memcpy(n->text, source, sl + 1);
            memcpy(n->text + sl + 1, text + start, ll);
            n->text[sl + 1 + ll] = '\0';
        }
        break;
    }
    c->noted_count++;
    return NDX_OK;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

ndx_status
ndx_cleaner_learn(ndx_cleaner *c, const char *source, const char *text,
                  size_t text_len)
{
    uint64_t sid;
    long src;
    size_t i = 0, nlines = 0, k;
    ndx_status st;

    if (c->frozen)
        return ndx_error(NDX_EINVAL, "cleaner: learn after freeze");
    if (!c->filter) {
        c->filter = calloc((size_t)1 << (FILTER_BITS - 3), 1);
        if (!c->filter)
            return ndx_error(NDX_ENOMEM, "out of memory (cleaner filter)");
    }
    sid = ndx_cleaner_source_id(source);
    src = source_index(c, sid);
    if (src < 0)
        return NDX_ENOMEM;
    c->sources[src].articles++;

    while (i < text_len) {
        const char *nl = memchr(text + i, '\n', text_len - i);
        size_t start = i, end;
        uint64_t h;

        i = nl ? (size_t)(nl - text) : text_len;
        end = i++;
        if (count_words(text + start, end - start, LEARN_MAX_WORDS)
            > LEARN_MAX_WORDS)
            continue;
        h = ndx_clean_line_hash(text + start, end - start);
        if (!h)
            continue;
        if (ndx_grow((void **)&c->scratch, &c->scratch_cap, nlines + 1,
                     sizeof *c->scratch, 64))
            return ndx_error(NDX_ENOMEM, "out of memory (cleaner)");
        c->scratch[nlines++] = h;
    }
    if (nlines) /* else scratch may still be NULL */
        qsort(c->scratch, nlines, sizeof *c->scratch, cmp_u64);
    for (k = 0; k < nlines; k++) {
        if (k > 0 && c->scratch[k] == c->scratch[k - 1])
            continue;
        uint64_t key = pair_key(sid, c->scratch[k]);
        uint32_t n = 0;

        st = count_line(c, key, (uint32_t)src, &n);
        if (st == NDX_OK && n == NOTE_AT)
            st = note_line(c, key, c->scratch[k], source ? source : "",
                           text, text_len);
        if (st)
            return st;
    }
    return NDX_OK;
}

/* Adds a key to the learned set, sized beforehand by ndx_htab_reserve. */
static void
learned_insert(ndx_cleaner *c, uint64_t key)
{
    int added;

    ndx_htab_put(&c->learned, key, &added);
}

static int
cmp_noted_key(const void *a, const void *b)
{
    uint64_t x = ((const noted_line *)a)->key, y = ((const noted_line *)b)->key;

    return x < y ? -1 : x > y;
}

static int
cmp_noted_count(const void *a, const void *b)
{
    const noted_line *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return cmp_noted_key(a, b);
}

/* The noted line of key, or NULL (noted sorted by key). */
static noted_line *
noted_find(ndx_cleaner *c, uint64_t key)
{
    noted_line probe;

    probe.key = key;
    if (!c->noted_count)
        return NULL;
    return bsearch(&probe, c->noted, c->noted_count, sizeof *c->noted,
                   cmp_noted_key);
}

/*
 * Whether a line counted in count of its source's articles is furniture.
 * The share rule catches the lines of a small source; the repeat rule
 * catches a large source's promotions, bios and credit lines, which stand
 * in only a few percent of its articles (CNN's "Check out the CNN
 * Electoral Map and calculator..." in 82 of 3,113).  The repeat rule was
 * chosen on the shared corpora (docs/furniture.md): lines of at least
 * REPEAT_WORDS words in at least REPEAT_ARTICLES articles of one source
 * are, on allsides, 157 lines, all promotions, sign-up boxes, photo
 * credits, bios and "contributed to this report" lines; on Reuters 3
 * table headers.  Shorter lines are left to the share rule, because a
 * newswire repeats short table rows ("record april 15", "nine mths") that
 * are data.
 */
static int
is_learned(uint32_t count, uint32_t source_articles, uint32_t words,
           unsigned min_articles, double share)
{
    if (count < min_articles)
        return 0;
    if ((double)count >= share * source_articles)
        return 1;
    return words >= REPEAT_WORDS && count >= REPEAT_ARTICLES;
}

void
ndx_cleaner_freeze(ndx_cleaner *c, unsigned min_articles, double share)
{
    size_t i, keep = 0, kept_noted = 0;
    int pass;

    if (!c || c->frozen)
        return;
    c->frozen = 1;
    if (min_articles < 2)
        min_articles = 2;
    if (c->noted_count)
        qsort(c->noted, c->noted_count, sizeof *c->noted, cmp_noted_key);
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < c->counts.cap; i++) {
            const count_entry *e = ndx_htab_slot(&c->counts, i);
            noted_line *n;

            if (!e)
                continue;
            n = e->count >= NOTE_AT ? noted_find(c, e->key) : NULL;
            if (!is_learned(e->count, c->sources[e->source].articles,
                            n ? n->words : 0, min_articles, share))
                continue;
            if (pass == 1) {
                learned_insert(c, e->key);
                continue;
            }
            keep++;
            if (n)
                n->count = e->count;
        }
        if (pass == 0 && ndx_htab_reserve(&c->learned, keep) != NDX_OK)
            break;
    }
    /* The noted lines that were learned, most frequent first, for the
     * summary; the others go. */
    for (i = 0; i < c->noted_count; i++) {
        if (c->noted[i].count && c->noted[i].text)
            c->noted[kept_noted++] = c->noted[i];
        else
            free(c->noted[i].text);
    }
    c->noted_count = kept_noted;
    if (c->noted_count)
        qsort(c->noted, c->noted_count, sizeof *c->noted, cmp_noted_count);
    /* Without memory for the set the cleaner falls back to the built-in
     * rules, which is what a cleaner that learned nothing does. */
    ndx_htab_free(&c->counts);
    free(c->filter);
    free(c->scratch);
    ndx_htab_free(&c->source_map);
    free(c->sources);
    c->filter = NULL;
    c->scratch = NULL;
    c->sources = NULL;
    c->scratch_cap = 0;
    c->source_count = c->source_cap = 0;
}

size_t
ndx_cleaner_top_line(const ndx_cleaner *c, size_t i, const char **source,
                     const char **line)
{
    if (!c || !c->frozen || i >= c->noted_count)
        return 0;
    *source = c->noted[i].text;
    *line = c->noted[i].text + strlen(c->noted[i].text) + 1;
    return c->noted[i].count;
}

int
ndx_cleaner_has_line(const ndx_cleaner *c, uint64_t source_id,
                     uint64_t line_hash)
{
    if (!c || !c->learned.count || !line_hash)
        return 0;
    return ndx_htab_get(&c->learned, pair_key(source_id, line_hash)) != NULL;
}

int
ndx_cleaner_is_furniture(const ndx_cleaner *c, const char *source,
                         const char *line, size_t len)
{
    if (ndx_clean_is_furniture(line, len))
        return 1;
    if (!c || !c->learned.count)
        return 0;
    return ndx_cleaner_has_line(c, ndx_cleaner_source_id(source),
                                ndx_clean_line_hash(line, len));
}

size_t
ndx_cleaner_learned_count(const ndx_cleaner *c)
{
    return c ? c->learned.count : 0;
}

static int
cmp_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

ndx_status
ndx_cleaner_save(const ndx_cleaner *c, const char *dir)
{
    char path[4096];
    uint64_t *keys = NULL;
    size_t i, n = 0;
    ndx_buf b;
    ndx_status st;

    ndx_buf_init(&b);
    if (c && c->learned.count) {
        keys = malloc(c->learned.count * sizeof *keys);
        if (!keys)
            return ndx_error(NDX_ENOMEM, "out of memory (furniture)");
        for (i = 0; i < c->learned.cap; i++) {
            const uint64_t *k = ndx_htab_slot(&c->learned, i);

            if (k)
                keys[n++] = *k;
        }
        qsort(keys, n, sizeof *keys, cmp_key);
    }
    st = ndx_buf_put(&b, FURN_MAGIC, 8);
    if (!st)
        st = ndx_buf_put_u32le(&b, FURN_VERSION);
    if (!st)
        st = ndx_buf_put_u32le(&b, 0);
    if (!st)
        st = ndx_buf_put_u64le(&b, n);
    for (i = 0; !st && i < n; i++)
        st = ndx_buf_put_u64le(&b, keys[i]);
    if (!st)
        st = ndx_buf_put_u32le(&b, (uint32_t)crc32(crc32(0L, Z_NULL, 0),
                                                    b.data, (uInt)b.len));
    if (!st) {
        snprintf(path, sizeof path, "%s/FURNITURE", dir);
        st = ndx_write_durable(dir, path, b.data, b.len);
    }
    free(keys);
    ndx_buf_free(&b);
    return st;
}

ndx_status
ndx_cleaner_load(ndx_cleaner *c, const char *dir)
{
    char path[4096];
    unsigned char head[24], tail[4];
    unsigned char *raw = NULL;
    uint64_t n, i;
    long size;
    uLong crc;
    FILE *f;
    ndx_status st = NDX_OK;

    if (!c || !c->frozen)
        return ndx_error(NDX_EINVAL, "furniture: the cleaner is not frozen");
    snprintf(path, sizeof path, "%s/FURNITURE", dir);
    f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return ndx_error(NDX_ENOTFOUND, "%s: no such file", path);
        return ndx_error(NDX_EIO, "open %s: %s", path, strerror(errno));
    }
    if (fread(head, 1, sizeof head, f) != sizeof head ||
        memcmp(head, FURN_MAGIC, 8) != 0) {
        st = ndx_error(NDX_ECORRUPT, "%s: not a furniture file", path);
        goto done;
    }
    if (ndx_get_u32le(head + 8) != FURN_VERSION) {
        st = ndx_error(NDX_ECORRUPT, "%s: format version %u, expected %u",
                       path, (unsigned)ndx_get_u32le(head + 8),
                       FURN_VERSION);
        goto done;
    }
    n = ndx_get_u64le(head + 16);
    /* The count must match the file's size before it sizes a buffer. */
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        n > ((uint64_t)1 << 32) ||
        (uint64_t)size != sizeof head + n * 8 + 4 ||
        fseek(f, (long)sizeof head, SEEK_SET) != 0) {
        st = ndx_error(NDX_ECORRUPT, "%s: damaged (size)", path);
        goto done;
    }
    raw = malloc(n ? n * 8 : 1);
    if (!raw) {
        st = ndx_error(NDX_ENOMEM, "out of memory (furniture)");
        goto done;
    }
    if (fread(raw, 8, n, f) != n || fread(tail, 1, 4, f) != 4) {
        st = ndx_error(NDX_ECORRUPT, "%s: damaged (truncated)", path);
        goto done;
    }
    crc = crc32(crc32(0L, Z_NULL, 0), head, sizeof head);
    crc = crc32(crc, raw, (uInt)(n * 8));
    if ((uint32_t)crc != ndx_get_u32le(tail)) {
        st = ndx_error(NDX_ECORRUPT, "%s: damaged (checksum)", path);
        goto done;
    }
    if ((st = ndx_htab_reserve(&c->learned, c->learned.count + (size_t)n)))
        goto done;
    for (i = 0; i < n; i++) {
        uint64_t key = ndx_get_u64le(raw + i * 8);

        if (key)
            learned_insert(c, key);
    }
done:
    free(raw);
    fclose(f);
    return st;
}
