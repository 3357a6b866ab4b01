/*
 * passages.c - splitting an article's text into passages.
 *
 * A passage is a byte range of the text, about a paragraph long, that a
 * search ranks and shows.  The steps:
 *   1. Lines.  Every line is trimmed and classified: blank, furniture
 *      (clean.c's built-in rules, the cleaner's learned lines, and the
 *      rules below that need neighbours), or text.
 *   2. Neighbour rules for furniture: the line after "About the writer" is
 *      the bio; the headline line after "Previous Article"/"Next Article"
 *      is a link; long lines without final punctuation right before
 *      trailing furniture at the end of an article are teasers ("Top
 *      European leaders will be shuttling ... and its leader" before a
 *      sign-up box); a navigation line of at most three words, without
 *      digits or final punctuation, followed by furniture (or being the
 *      last line of the text) heads nothing and is furniture too.
 *   3. Paragraphs.  Each text line is a paragraph (plain text has one
 *      paragraph a line; JSON Lines separates paragraphs by blank lines).
 *      A heading - at most HEADING_MAX_WORDS words, no final sentence
 *      punctuation - joins the paragraph that follows it ("Ukraine's Red
 *      Lines" + the next paragraph), even across a blank line, but never
 *      across furniture.
 *   4. Long paragraphs (above max_words) split at sentence ends, each piece
 *      as close to target_words as the sentences allow; a sentence end is
 *      . ! ? or an ellipsis (closing quotes allowed) followed by white space
 *      and a capital, digit or quote, and not an abbreviation ("U.S.",
 *      "Mr.", "Jan.", "J.") nor a decimal.  A run without a sentence end
 *      longer than max_words is cut between words.
 *   5. Fragments below min_words merge with the neighbour before them (or,
 *      for the first one and for one that starts with a heading, after
 *      them) while the sum stays within max_words; a merge never crosses a
 *      furniture line.
 * Passages are trimmed; furniture lines lie between passages, never inside.
 * Tokenizing and indexing passages is left to the analyzer and engines.
 */
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "newsdex/article.h"
#include "newsdex/ingest.h"
#include "util/buf.h"

/* A heading has at most this many words (the longest seed heading, a
 * title, has 14; teaser lines have twenty and more). */
#define HEADING_MAX_WORDS 16

/* A navigation line has at most this many words. */
#define NAV_MAX_WORDS 3

/* Lines of at least this many words without final punctuation before
 * trailing furniture are teasers. */
#define TEASER_MIN_WORDS 12

/* A headline after "Next Article" has fewer words than this. */
#define LINK_MAX_WORDS 20

void
ndx_passages_clear(ndx_passages *p)
{
    if (!p)
        return;
    free(p->items);
    p->items = NULL;
    p->count = 0;
    p->cap = 0;
}

ndx_status
ndx_passages_push(ndx_passages *p, uint32_t off, uint32_t len)
{
    if (ndx_grow((void **)&p->items, &p->cap, p->count + 1,
                 sizeof *p->items, 16))
        return ndx_error(NDX_ENOMEM, "out of memory (passages)");
    p->items[p->count].off = off;
    p->items[p->count].len = len;
    p->count++;
    return NDX_OK;
}

void
ndx_split_opts_init(ndx_split_opts *o)
{
    o->min_words = 30;
    o->target_words = 100;
    o->max_words = 150;
    o->drop_furniture = 1;
    o->cleaner = NULL;
}

typedef struct line_info {
    uint32_t off;          /* first byte after trimming */
    uint32_t end;          /* one past the last byte after trimming */
    unsigned words;        /* words */
    unsigned char blank;   /* nothing but white space */
    unsigned char furn;    /* furniture */
    unsigned char final;   /* ends with sentence punctuation */
    unsigned char digit;   /* holds a digit */
    unsigned char kind;    /* NDX_LINE_* from the built-in rules */
    unsigned char last_nav; /* furniture only as the text's last line */
} line_info;

typedef struct para {
    uint32_t off;   /* first byte */
    uint32_t end;   /* one past the last byte */
    unsigned words; /* words */
    uint32_t seg;   /* furniture lines before it: merges stay in a seg */
    int headed;     /* starts with a heading */
} para;

typedef struct para_list {
    para *items;  /* owned */
    size_t count; /* entries */
    size_t cap;   /* allocated entries */
} para_list;

static int
is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
           || c == '\v';
}

/* Length of white space (ASCII or U+00A0) ending at end, 0 when none. */
static size_t
ws_before(const char *t, size_t start, size_t end)
{
    if (end > start && is_ws((unsigned char)t[end - 1]))
        return 1;
    if (end >= start + 2 && (unsigned char)t[end - 2] == 0xC2
        && (unsigned char)t[end - 1] == 0xA0)
        return 2;
    return 0;
}

static size_t
ws_at(const char *t, size_t i, size_t end)
{
    if (i < end && is_ws((unsigned char)t[i]))
        return 1;
    if (i + 1 < end && (unsigned char)t[i] == 0xC2
        && (unsigned char)t[i + 1] == 0xA0)
        return 2;
    return 0;
}

static void
trim(const char *t, size_t *off, size_t *end)
{
    size_t k;

    while (*off < *end && (k = ws_at(t, *off, *end)) != 0)
        *off += k;
    while (*end > *off && (k = ws_before(t, *off, *end)) != 0)
        *end -= k;
}

/* Length of the closing quote or bracket ending at end, or 0. */
static size_t
closer_before(const char *t, size_t start, size_t end)
{
    const unsigned char *u = (const unsigned char *)t;

    if (end <= start)
        return 0;
    if (u[end - 1] == '"' || u[end - 1] == '\'' || u[end - 1] == ')'
        || u[end - 1] == ']')
        return 1;
    /* ” ’ » */
    if (end >= start + 3 && u[end - 3] == 0xE2 && u[end - 2] == 0x80
        && (u[end - 1] == 0x9D || u[end - 1] == 0x99))
        return 3;
    if (end >= start + 2 && u[end - 2] == 0xC2 && u[end - 1] == 0xBB)
        return 2;
    return 0;
}

/* Whether [start, end) ends with sentence punctuation (closers allowed);
 * *punct receives the position of the punctuation. */
static int
ends_sentence(const char *t, size_t start, size_t end, size_t *punct)
{
    const unsigned char *u = (const unsigned char *)t;
    size_t k;

    while ((k = closer_before(t, start, end)) != 0)
        end -= k;
    if (end <= start)
        return 0;
    if (u[end - 1] == '.' || u[end - 1] == '!' || u[end - 1] == '?'
        || u[end - 1] == ';') {
        if (punct)
            *punct = end - 1;
        return 1;
    }
    if (end >= start + 3 && u[end - 3] == 0xE2 && u[end - 2] == 0x80
        && u[end - 1] == 0xA6) {
        if (punct)
            *punct = end - 3;
        return 1;
    }
    return 0;
}

static int
is_upper_ascii(int c)
{
    return c >= 'A' && c <= 'Z';
}

static int
is_alpha_ascii(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Words before a final '.' that do not end a sentence. */
static const char *const abbreviations[] = {
    "Adm",  "Apr",  "Aug",  "Capt", "Co",   "Col",   "Corp", "Cpl",
    "Dec",  "Dr",   "Feb",  "Ft",   "Gen",  "Gov",   "Hon",  "Inc",
    "Jan",  "Jr",   "Jul",  "Jun",  "Lt",   "Ltd",   "Maj",  "Mar",
    "Messrs", "Mr", "Mrs",  "Ms",   "Mt",   "No",    "Nov",  "Oct",
    "Pres", "Prof", "Pvt",  "Rep",  "Reps", "Rev",   "Sen",  "Sens",
    "Sep",  "Sept", "Sgt",  "Sr",   "St",   "Supt",  "vs",   "v",
    "approx", "est", "ca",  "cf",   "no",   "p",     "pp",   "vol",
};

/*
 * Whether the word [ws, we) (its last byte is the '.' at dot) is an
 * abbreviation: a listed one, a single letter ("J."), or letters with
 * inner dots ("U.S.", "a.m.", "e.g.").
 */
static int
is_abbreviation(const char *t, size_t ws, size_t dot)
{
    const unsigned char *u = (const unsigned char *)t;
    size_t s = ws, i, n;
    int inner_dot = 0, letters_only = 1;

    while (s < dot && !is_alpha_ascii(u[s]) && !(u[s] >= '0' && u[s] <= '9')
           && u[s] < 0x80)
        s++; /* opening quotes and brackets */
    n = dot - s;
    if (n == 0)
        return 0;
    for (i = s; i < dot; i++) {
        if (u[i] == '.')
            inner_dot = 1;
        else if (!is_alpha_ascii(u[i]))
            letters_only = 0;
    }
    if (!letters_only)
        return 0;
    /* An initial is a capital ("J. Mansour"); "plan b." is no initial. */
    if (inner_dot || (n == 1 && is_upper_ascii(u[s])))
        return 1;
    for (i = 0; i < sizeof abbreviations / sizeof abbreviations[0]; i++) {
        if (strlen(abbreviations[i]) == n
            && memcmp(abbreviations[i], t + s, n) == 0)
            return 1;
    }
    return 0;
}

/* Whether a new sentence may start at i: a capital, a digit, a quote or
 * bracket, or a non-ASCII character (accented capitals, curly quotes). */
static int
starts_sentence(const char *t, size_t i, size_t end)
{
    unsigned char c;

    if (i >= end)
        return 0;
    c = (unsigned char)t[i];
    return is_upper_ascii(c) || (c >= '0' && c <= '9') || c == '"'
           || c == '\'' || c == '(' || c == '[' || c >= 0x80;
}

static ndx_status
para_push(para_list *l, size_t off, size_t end, unsigned words, size_t seg,
          int headed)
{
    if (ndx_grow((void **)&l->items, &l->cap, l->count + 1,
                 sizeof *l->items, 32))
        return ndx_error(NDX_ENOMEM, "out of memory (passages)");
    l->items[l->count].off = (uint32_t)off;
    l->items[l->count].end = (uint32_t)end;
    l->items[l->count].words = words;
    l->items[l->count].seg = (uint32_t)seg;
    l->items[l->count].headed = headed;
    l->count++;
    return NDX_OK;
}

static unsigned
distance(unsigned a, unsigned b)
{
    return a > b ? a - b : b - a;
}

/*
 * Splits one long paragraph into pieces near target words at sentence
 * ends, appending them to out.  Words are counted as clean.c counts them
 * (a lone dash or bullet is none), so that the counts agree with p->words.
 * Each word is scanned at most twice: linear in the paragraph's length.
 */
static ndx_status
split_long(const char *t, const para *p, const ndx_split_opts *o,
           para_list *out)
{
    size_t start = p->off, i = p->off;
    unsigned base = 0, words = 0;      /* words before start, before i */
    size_t best_pos = 0;               /* best sentence end so far, or 0 */
    unsigned best_words = 0;           /* words before best_pos */
    size_t fallback_pos = 0;           /* end of word number target, or 0 */
    unsigned fallback_words = 0;       /* words before fallback_pos */
    unsigned target = o->target_words ? o->target_words : 1;
    unsigned maxw = o->max_words > target ? o->max_words : target;
    ndx_status st;

    while (i < p->end) {
        size_t ws, we, k, punct, next;
        unsigned piece;

        while (i < p->end && (k = ws_at(t, i, p->end)) != 0)
            i += k;
        if (i >= p->end)
            break;
        ws = i;
        while (i < p->end && !ws_at(t, i, p->end))
            i++;
        we = i;
        if (ndx_clean_word_count(t + ws, we - ws) == 0)
            continue;
        words++;
        piece = words - base;
        if (piece == target) {
            fallback_pos = we;
            fallback_words = words;
        }
        /* A sentence end here that leaves no fragment on either side is a
         * candidate; the one closest to target wins. */
        next = we;
        while (next < p->end && (k = ws_at(t, next, p->end)) != 0)
            next += k;
        if (next < p->end && p->words >= words + o->min_words
            && piece >= o->min_words && ends_sentence(t, ws, we, &punct)
            && starts_sentence(t, next, p->end)
            && !(t[punct] == '.' && is_abbreviation(t, ws, punct))
            && (!best_pos
                || (piece <= maxw
                    && distance(piece, target)
                           < distance(best_words - base, target)))) {
            best_pos = we;
            best_words = words;
        }
        /* Cut once no later sentence end can be closer to the target, or
         * the piece reached max words. */
        if (p->words > base + maxw
            && (piece >= maxw
                || (best_pos && piece > target
                    && piece - target >= distance(best_words - base,
                                                  target)))) {
            size_t cut = we;
            unsigned cut_words = words;

            if (best_pos && best_words - base <= maxw) {
                cut = best_pos;
                cut_words = best_words;
            } else if (fallback_pos) {
                cut = fallback_pos;
                cut_words = fallback_words;
            }
            st = para_push(out, start, cut, cut_words - base, p->seg,
                           start == p->off && p->headed);
            if (st)
                return st;
            start = cut;
            while (start < p->end && (k = ws_at(t, start, p->end)) != 0)
                start += k;
            /* The words scanned past the cut start the next piece; scan
             * them again so that its candidates are counted from there. */
            base = cut_words;
            words = base;
            i = start;
            best_pos = 0;
            best_words = base;
            fallback_pos = 0;
        }
    }
    if (start < p->end)
        return para_push(out, start, p->end,
                         p->words > base ? p->words - base : 1, p->seg,
                         start == p->off && p->headed);
    return NDX_OK;
}

/* Index of the next non-blank line after i, or count. */
static size_t
next_nonblank(const line_info *l, size_t count, size_t i)
{
    for (i++; i < count && l[i].blank; i++)
        ;
    return i;
}

static void
neighbour_rules(line_info *l, size_t count)
{
    size_t i, j;

    /* The bio after "About the writer"; the headline after "Next Article". */
    for (i = 0; i < count; i++) {
        if (l[i].kind != NDX_LINE_BIO_NEXT && l[i].kind != NDX_LINE_LINK_NEXT)
            continue;
        j = next_nonblank(l, count, i);
        if (j >= count || l[j].furn)
            continue;
        if (l[i].kind == NDX_LINE_BIO_NEXT
            || (l[j].words < LINK_MAX_WORDS && !l[j].final))
            l[j].furn = 1;
    }
    /* Teasers before trailing furniture. */
    {
        int after_furn = 0;
        for (i = count; i-- > 0;) {
            if (l[i].blank)
                continue;
            if (l[i].furn) {
                after_furn = 1;
                continue;
            }
            if (after_furn && l[i].words >= TEASER_MIN_WORDS && !l[i].final) {
                l[i].furn = 1;
                continue;
            }
            break;
        }
    }
    /* Navigation lines that head nothing: before furniture (a run of
     * them, "Home / World / Menu"), or the text's last line (alone, so
     * that a text of short lines is not dropped from its end up). */
    for (i = count; i-- > 0;) {
        if (l[i].blank || l[i].furn || l[i].final || l[i].digit
            || l[i].words > NAV_MAX_WORDS)
            continue;
        j = next_nonblank(l, count, i);
        if (j >= count)
            l[i].furn = l[i].last_nav = 1;
        else if (l[j].furn && !l[j].last_nav)
            l[i].furn = 1;
    }
}

ndx_status
ndx_passages_split(ndx_passages *into, const char *text, size_t text_len,
                   const char *source, const ndx_split_opts *opts)
{
    ndx_split_opts defaults;
    const ndx_split_opts *o = opts;
    line_info *lines = NULL;
    size_t line_count = 0, line_cap = 0, i, seg = 0;
    para_list paras = {NULL, 0, 0}, pieces = {NULL, 0, 0};
    uint64_t sid = 0;
    int learned;
    ndx_status st = NDX_OK;

    into->count = 0;
    if (!o) {
        ndx_split_opts_init(&defaults);
        o = &defaults;
    }
    if (!text || text_len == 0)
        return NDX_OK;
    if (text_len > UINT32_MAX)
        return ndx_error(NDX_EINVAL, "article text of %zu bytes is too long",
                         text_len);
    learned = o->drop_furniture && ndx_cleaner_learned_count(o->cleaner) > 0;
    if (learned)
        sid = ndx_cleaner_source_id(source);

    /* 1. Lines. */
    for (i = 0; i <= text_len;) {
        size_t s = i, e, k;
        line_info *li;

        while (i < text_len && text[i] != '\n')
            i++;
        e = i;
        i++;
        trim(text, &s, &e);
        /* A run of blank lines counts as one. */
        if (s == e && line_count > 0 && lines[line_count - 1].blank)
            continue;
        if (ndx_grow((void **)&lines, &line_cap, line_count + 1,
                     sizeof *lines, 64)) {
            st = ndx_error(NDX_ENOMEM, "out of memory (passages)");
            goto fail;
        }
        li = &lines[line_count++];
        memset(li, 0, sizeof *li);
        li->off = (uint32_t)s;
        li->end = (uint32_t)e;
        li->blank = s == e;
        if (li->blank)
            continue;
        li->words = ndx_clean_word_count(text + s, e - s);
        li->final = (unsigned char)ends_sentence(text, s, e, NULL);
        for (k = s; k < e && !li->digit; k++)
            li->digit = text[k] >= '0' && text[k] <= '9';
        if (o->drop_furniture) {
            li->kind = (unsigned char)ndx_clean_line_kind_words(
                text + s, e - s, li->words);
            li->furn = li->kind != NDX_LINE_TEXT;
            /* A longer line was never learned (trimming only takes
             * words away, so it was longer still when learned from). */
            if (!li->furn && learned
                && li->words <= NDX_CLEAN_LEARN_MAX_WORDS)
                li->furn = (unsigned char)ndx_cleaner_has_line(
                    o->cleaner, sid, ndx_clean_line_hash(text + s, e - s));
        }
    }

    /* 2. Furniture that needs neighbours. */
    if (o->drop_furniture)
        neighbour_rules(lines, line_count);

    /* 3. Paragraphs, headings joined to what follows. */
    {
        size_t head_off = 0;
        unsigned head_words = 0;
        int in_head = 0;

        for (i = 0; i < line_count; i++) {
            line_info *l = &lines[i];
            size_t j;

            if (l->blank)
                continue;
            if (l->furn) {
                seg++;
                continue;
            }
            /* A heading needs a text line after it, so a heading run
             * always ends in a paragraph. */
            j = next_nonblank(lines, line_count, i);
            if (l->words <= HEADING_MAX_WORDS && !l->final && j < line_count
                && !lines[j].furn) {
                if (!in_head) {
                    head_off = l->off;
                    head_words = 0;
                    in_head = 1;
                }
                head_words += l->words;
                continue;
            }
            st = para_push(&paras, in_head ? head_off : l->off, l->end,
                           (in_head ? head_words : 0) + l->words, seg,
                           in_head);
            if (st)
                goto fail;
            in_head = 0;
        }
    }

    /* 4. Long paragraphs split at sentence ends. */
    for (i = 0; i < paras.count; i++) {
        if (paras.items[i].words > o->max_words && o->max_words > 0)
            st = split_long(text, &paras.items[i], o, &pieces);
        else
            st = para_push(&pieces, paras.items[i].off, paras.items[i].end,
                           paras.items[i].words, paras.items[i].seg,
                           paras.items[i].headed);
        if (st)
            goto fail;
    }

    /* 5. Fragments merge with a neighbour in the same segment: forward
     * when the fragment comes first or starts with a heading (a heading
     * opens a passage), backward otherwise; a second pass lets a headed
     * fragment with nothing after it join what came before. */
    {
        size_t n = 0, pass;
        for (pass = 0; pass < 2; pass++) {
            n = 0;
            for (i = 0; i < pieces.count; i++) {
                para *cur = &pieces.items[i];
                if (n > 0) {
                    para *last = &pieces.items[n - 1];
                    int frag_last = last->words < o->min_words;
                    int frag_cur = cur->words < o->min_words
                                   && (pass == 1 || !cur->headed);
                    if (last->seg == cur->seg && (frag_last || frag_cur)
                        && last->words + cur->words <= o->max_words) {
                        last->end = cur->end;
                        last->words += cur->words;
                        continue;
                    }
                }
                pieces.items[n++] = *cur;
            }
            pieces.count = n;
        }
    }

    for (i = 0; i < pieces.count; i++) {
        size_t s = pieces.items[i].off, e = pieces.items[i].end;
        trim(text, &s, &e);
        if (s == e)
            continue;
        st = ndx_passages_push(into, (uint32_t)s, (uint32_t)(e - s));
        if (st)
            goto fail;
    }
fail:
    free(lines);
    free(paras.items);
    free(pieces.items);
    if (st)
        into->count = 0;
    return st;
}
