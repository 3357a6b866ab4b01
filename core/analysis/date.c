/*
 * date.c - calendar arithmetic and the date forms found in news.
 *
 * Dates are whole days since 1970-01-01 in the proleptic Gregorian
 * calendar, plus an optional time of day in seconds.  The parser accepts
 * ISO 8601 ("2025-04-04", "2025-04-04T10:00:00Z", "2025-04-04 10:00"),
 * month names ("April 17, 2025", "Apr. 17 2025", "17 April 2025",
 * "Friday, April 18, 2025"), US numeric dates ("4/4/25", "4/4/2025":
 * month first; two-digit years 69-99 are 19xx, 00-68 are 20xx, as POSIX
 * strptime reads them) and RFC 2822 ("Fri, 18 Apr 2025 10:00:00 GMT").
 * A zone is checked but not applied: an article keeps the calendar day its
 * publisher printed, which is the day a reader searches for.  A weekday
 * name is allowed and not cross-checked, since captions get them wrong.
 * Impossible dates (2025-02-30, month 13) are refused.
 *
 * The module knows nothing of articles: readers decide which string to
 * parse, and the query parser decides what a range means for a filter.
 */
#include <string.h>

#include "newsdex/article.h"

typedef struct cursor {
    const char *p;   /* next byte */
    const char *end; /* one past the last byte */
} cursor;

static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int
is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(long y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30,
                               31, 31, 30, 31, 30, 31};

    if (m < 1 || m > 12)
        return 0;
    return (m == 2 && is_leap(y)) ? 29 : dm[m - 1];
}

int32_t
ndx_date_from_ymd(int year, int month, int day)
{
    long y = (long)year - (month <= 2);
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long mp = month > 2 ? month - 3 : month + 9;
    long doy = (153 * mp + 2) / 5 + day - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return (int32_t)(era * 146097 + doe - 719468);
}

void
ndx_date_to_ymd(int32_t days, int *year, int *month, int *day)
{
    long z, era, doe, yoe, y, doy, mp, m, d;

    if (days == NDX_DATE_NONE) {
        *year = 0;
        *month = 0;
        *day = 0;
        return;
    }
    z = (long)days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

void
ndx_date_format(int32_t days, char out[11])
{
    int y, m, d;

    out[0] = '\0';
    if (days == NDX_DATE_NONE)
        return;
    ndx_date_to_ymd(days, &y, &m, &d);
    /* Only four-digit years fit the 11 bytes; parsing never makes others. */
    if (y < 0 || y > 9999)
        return;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

/* ---- scanning helpers ---------------------------------------------------- */

static void
skip_ws(cursor *c)
{
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            c->p++;
        } else if (ch == 0xC2 && c->end - c->p >= 2
                   && (unsigned char)c->p[1] == 0xA0) {
            c->p += 2; /* no-break space */
        } else {
            break;
        }
    }
}

static int
accept_char(cursor *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Reads a run of between min_dig and max_dig digits that is not followed
 * by another digit. */
static int
read_num(cursor *c, int min_dig, int max_dig, long *v)
{
    const char *p = c->p;
    long n = 0;
    int k = 0;

    while (p < c->end && is_digit(*p) && k < max_dig) {
        n = n * 10 + (*p - '0');
        p++;
        k++;
    }
    if (k < min_dig || (p < c->end && is_digit(*p)))
        return 0;
    c->p = p;
    *v = n;
    return 1;
}

/* Reads a run of ASCII letters not followed by a letter or digit; at most
 * cap-1 of them are copied, folded to lower case, into w. */
static size_t
read_word(cursor *c, char *w, size_t cap)
{
    const char *p = c->p;
    size_t n = 0;

    while (p < c->end && is_alpha(*p)) {
        if (n + 1 < cap)
            w[n] = (char)lower(*p);
        n++;
        p++;
    }
    if (n == 0 || n + 1 > cap || (p < c->end && is_digit(*p)))
        return 0;
    w[n] = '\0';
    c->p = p;
    return n;
}

static const char *const month_names[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

static const char *const weekday_names[7] = {
    "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday"};

/* Month 1-12 from a full name, a three-letter abbreviation or "sept". */
static int
month_of(const char *w, size_t n)
{
    int i;

    for (i = 0; i < 12; i++) {
        if (strcmp(w, month_names[i]) == 0)
            return i + 1;
        if (n == 3 && strncmp(w, month_names[i], 3) == 0)
            return i + 1;
    }
    if (strcmp(w, "sept") == 0)
        return 9;
    return 0;
}

static int
is_weekday(const char *w, size_t n)
{
    int i;

    for (i = 0; i < 7; i++) {
        if (strcmp(w, weekday_names[i]) == 0)
            return 1;
        if (n == 3 && strncmp(w, weekday_names[i], 3) == 0)
            return 1;
    }
    return strcmp(w, "tues") == 0 || strcmp(w, "thur") == 0
           || strcmp(w, "thurs") == 0;
}

/* A month word with an optional abbreviation dot. */
static int
read_month(cursor *c)
{
    cursor save = *c;
    char w[16];
    size_t n = read_word(c, w, sizeof w);
    int m = n ? month_of(w, n) : 0;

    if (!m) {
        *c = save;
        return 0;
    }
    if (n < 5)
        accept_char(c, '.');
    return m;
}

/* An optional weekday: "Friday, ", "Fri, ", "Fri. ". */
static void
skip_weekday(cursor *c)
{
    cursor save = *c;
    char w[16];
    size_t n = read_word(c, w, sizeof w);

    if (!n || !is_weekday(w, n)) {
        *c = save;
        return;
    }
    accept_char(c, '.');
    accept_char(c, ',');
    skip_ws(c);
}

/* A day of the month with an optional ordinal suffix ("17th"). */
static int
read_day(cursor *c, long *d)
{
    cursor save = *c;

    if (!read_num(c, 1, 2, d))
        return 0;
    if (c->end - c->p >= 2) {
        char a = (char)lower(c->p[0]), b = (char)lower(c->p[1]);
        if ((a == 's' && b == 't') || (a == 'n' && b == 'd')
            || (a == 'r' && b == 'd') || (a == 't' && b == 'h')) {
            if (c->end - c->p == 2 || !is_alpha(c->p[2]))
                c->p += 2;
        }
    }
    if (c->p < c->end && is_alpha(*c->p)) {
        *c = save;
        return 0;
    }
    return 1;
}

static int
valid_ymd(long y, long m, long d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1
           && d <= days_in_month(y, (int)m);
}

/* ---- the date forms ------------------------------------------------------ */

/* The date forms below read one form at the cursor into *y, *m, *d and return
 * 1, or return 0 leaving the cursor anywhere: parse_forms() puts it back. */
typedef int (*date_form)(cursor *c, long *y, long *m, long *d);

/* YYYY-MM-DD or YYYY/MM/DD. */
static int
parse_iso(cursor *c, long *y, long *m, long *d)
{
    char sep;

    if (!read_num(c, 4, 4, y) || c->p >= c->end)
        return 0;
    sep = *c->p;
    if (sep != '-' && sep != '/')
        return 0;
    c->p++;
    return read_num(c, 1, 2, m) && accept_char(c, sep)
           && read_num(c, 1, 2, d);
}

/* M/D/YY or M/D/YYYY (US order). */
static int
parse_us(cursor *c, long *y, long *m, long *d)
{
    const char *ys;

    if (!read_num(c, 1, 2, m) || !accept_char(c, '/')
        || !read_num(c, 1, 2, d) || !accept_char(c, '/'))
        return 0;
    ys = c->p;
    if (!read_num(c, 2, 4, y) || c->p - ys == 3)
        return 0;
    if (c->p - ys == 2)
        *y += *y < 69 ? 2000 : 1900;
    return 1;
}

/* The year that ends a date written with a month's name: ", 2025" or
 * " 2025". */
static int
read_year_after(cursor *c, long *y)
{
    accept_char(c, ',');
    skip_ws(c);
    return read_num(c, 4, 4, y);
}

/* "April 17, 2025", "Apr. 17 2025", "April 17th, 2025". */
static int
parse_month_day(cursor *c, long *y, long *m, long *d)
{
    if (!(*m = read_month(c)))
        return 0;
    skip_ws(c);
    return read_day(c, d) && read_year_after(c, y);
}

/* "17 April 2025", "18 Apr 2025", "17th of April, 2025". */
static int
parse_day_month(cursor *c, long *y, long *m, long *d)
{
    if (!read_day(c, d))
        return 0;
    skip_ws(c);
    if (c->end - c->p >= 3 && lower(c->p[0]) == 'o' && lower(c->p[1]) == 'f'
        && c->p[2] == ' ') {
        c->p += 3;
        skip_ws(c);
    }
    return (*m = read_month(c)) && read_year_after(c, y);
}

/* The first of count forms that reads a date at the cursor; the cursor is
 * back where it was after each form that fails. */
static int
parse_forms(cursor *c, const date_form *forms, size_t count, long *y,
            long *m, long *d)
{
    size_t i;

    for (i = 0; i < count; i++) {
        cursor save = *c;

        if (forms[i](c, y, m, d))
            return 1;
        *c = save;
    }
    return 0;
}

/* Every form, for a date standing alone; a date within text starting with a
 * digit; one starting with a letter. */
static const date_form any_forms[] = {parse_iso, parse_us, parse_month_day,
                                      parse_day_month};
static const date_form digit_forms[] = {parse_iso, parse_us, parse_day_month};
static const date_form letter_forms[] = {parse_month_day};

#define FORM_COUNT(forms) (sizeof(forms) / sizeof(forms)[0])

/* Any date form at the cursor, weekday allowed; on success *days is set. */
static int
parse_any(cursor *c, int32_t *days)
{
    cursor save = *c;
    long y = 0, m = 0, d = 0;

    skip_weekday(c);
    if (parse_forms(c, any_forms, FORM_COUNT(any_forms), &y, &m, &d)) {
        if (valid_ymd(y, m, d)) {
            *days = ndx_date_from_ymd((int)y, (int)m, (int)d);
            return 1;
        }
    }
    *c = save;
    return 0;
}

/* A zone: "Z", "GMT", "EST", "+0000", "-05:00", "+02", "GMT+2". */
static int
parse_zone(cursor *c)
{
    cursor save = *c;
    long v;
    int letters = 0;

    if (c->p >= c->end)
        return 0;
    while (c->p < c->end && c->p[0] >= 'A' && c->p[0] <= 'Z' && letters < 6) {
        c->p++;
        letters++;
    }
    if (letters && c->p < c->end && is_alpha(*c->p))
        goto fail;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
        c->p++;
        if (!read_num(c, 1, 4, &v)) {
            goto fail;
        } else if (accept_char(c, ':')) {
            if (!read_num(c, 2, 2, &v))
                goto fail;
        }
        return 1;
    }
    if (letters)
        return 1;
fail:
    *c = save;
    return 0;
}

/* A time of day after a date: [,] [at|T] HH:MM[:SS[.frac]] [am|pm] [zone]. */
static int
parse_time(cursor *c, int32_t *secs)
{
    cursor save = *c;
    long h, mi, s = 0, frac;
    char w[8];
    size_t n;

    if (!accept_char(c, 'T')) {
        accept_char(c, ',');
        skip_ws(c);
        if (c->end - c->p >= 3 && lower(c->p[0]) == 'a'
            && lower(c->p[1]) == 't' && c->p[2] == ' ') {
            c->p += 3;
            skip_ws(c);
        }
    }
    if (!read_num(c, 1, 2, &h) || !accept_char(c, ':')
        || !read_num(c, 2, 2, &mi))
        goto fail;
    if (accept_char(c, ':')) {
        if (!read_num(c, 2, 2, &s))
            goto fail;
        if (accept_char(c, '.') || accept_char(c, ','))
            if (!read_num(c, 1, 9, &frac))
                goto fail;
    }
    if (h > 23 || mi > 59 || s > 60)
        goto fail;
    if (s == 60)
        s = 59; /* a leap second stays in its minute */
    skip_ws(c);
    {
        cursor mark = *c;
        n = 0;
        /* "am", "pm", "a.m.", "p.m." */
        while (c->p < c->end && n + 1 < sizeof w
               && (is_alpha(*c->p) || *c->p == '.')) {
            if (*c->p != '.')
                w[n++] = (char)lower(*c->p);
            c->p++;
        }
        w[n] = '\0';
        if (n == 2 && (strcmp(w, "am") == 0 || strcmp(w, "pm") == 0)
            && (c->p >= c->end || !is_alpha(*c->p))) {
            if (h < 1 || h > 12)
                goto fail;
            h = h % 12 + (w[0] == 'p' ? 12 : 0);
            skip_ws(c);
        } else {
            *c = mark;
        }
    }
    if (parse_zone(c))
        skip_ws(c);
    *secs = (int32_t)(h * 3600 + mi * 60 + s);
    return 1;
fail:
    *c = save;
    return 0;
}

static ndx_status
bad_date(const char *s, size_t len)
{
    return ndx_error(NDX_EINVAL,
                     "cannot read '%.*s' as a date (use YYYY-MM-DD)",
                     (int)(len > 60 ? 60 : len), s);
}

ndx_status
ndx_date_parse(const char *s, size_t len, int32_t *days, int32_t *secs)
{
    cursor c = {s, s + len};
    int32_t d, t = -1;

    if (!s)
        return ndx_error(NDX_EINVAL, "no date given");
    skip_ws(&c);
    if (!parse_any(&c, &d))
        return bad_date(s, len);
    if (c.p < c.end && !parse_time(&c, &t)) {
        /* "2025-04-04Z": UTC marker right after a date-only form. */
        accept_char(&c, 'Z');
    }
    skip_ws(&c);
    if (c.p != c.end)
        return bad_date(s, len);
    *days = d;
    if (secs)
        *secs = t;
    return NDX_OK;
}

/* "2025", "2025-04", "April 2025" or any full date, as a day range. */
static int
parse_partial(const char *s, size_t len, int32_t *first, int32_t *last)
{
    cursor c = {s, s + len};
    long y, m;
    int32_t d;

    skip_ws(&c);
    while (c.end > c.p && (c.end[-1] == ' ' || c.end[-1] == '\t'))
        c.end--;
    if (read_num(&c, 4, 4, &y)) {
        if (c.p == c.end) {
            if (y < 1)
                return 0;
            *first = ndx_date_from_ymd((int)y, 1, 1);
            *last = ndx_date_from_ymd((int)y, 12, 31);
            return 1;
        }
        if ((accept_char(&c, '-') || accept_char(&c, '/'))
            && read_num(&c, 1, 2, &m) && c.p == c.end) {
            if (!valid_ymd(y, m, 1))
                return 0;
            *first = ndx_date_from_ymd((int)y, (int)m, 1);
            *last = ndx_date_from_ymd((int)y, (int)m,
                                      days_in_month(y, (int)m));
            return 1;
        }
        c.p = s;
        skip_ws(&c);
    }
    if ((m = read_month(&c)) != 0) {
        accept_char(&c, ',');
        skip_ws(&c);
        if (read_num(&c, 4, 4, &y) && c.p == c.end && valid_ymd(y, m, 1)) {
            *first = ndx_date_from_ymd((int)y, (int)m, 1);
            *last = ndx_date_from_ymd((int)y, (int)m,
                                      days_in_month(y, (int)m));
            return 1;
        }
    }
    if (ndx_date_parse(s, len, &d, NULL) == NDX_OK) {
        *first = d;
        *last = d;
        return 1;
    }
    return 0;
}

ndx_status
ndx_date_parse_range(const char *s, size_t len, int32_t *first,
                     int32_t *last)
{
    size_t i;
    int32_t a, b, c2, d;

    if (!s)
        return ndx_error(NDX_EINVAL, "no date given");
    for (i = 0; i + 1 < len; i++) {
        if (s[i] == '.' && s[i + 1] == '.') {
            if (!parse_partial(s, i, &a, &b)
                || !parse_partial(s + i + 2, len - i - 2, &c2, &d))
                goto fail;
            if (c2 < a) {
                return ndx_error(NDX_EINVAL,
                                 "date range '%.*s' ends before it starts",
                                 (int)(len > 60 ? 60 : len), s);
            }
            *first = a;
            *last = d;
            return NDX_OK;
        }
    }
    if (parse_partial(s, len, &a, &b)) {
        *first = a;
        *last = b;
        return NDX_OK;
    }
fail:
    return ndx_error(NDX_EINVAL,
                     "cannot read '%.*s' as a date (use YYYY, YYYY-MM or "
                     "YYYY-MM-DD)",
                     (int)(len > 60 ? 60 : len), s);
}

/* Whether a numeric form may start after byte prev: not inside a word or a
 * longer number ("v1/2/2025", "12-2025-04-04"). */
static int
boundary_before(const char *text, size_t i)
{
    unsigned char prev;

    if (i == 0)
        return 1;
    prev = (unsigned char)text[i - 1];
    return !(is_alpha(prev) || is_digit(prev) || prev == '/' || prev == '-'
             || prev == '.' || prev == '_' || prev >= 0x80);
}

static int
boundary_after(const cursor *c)
{
    if (c->p >= c->end)
        return 1;
    if (is_alpha(*c->p) || is_digit(*c->p) || *c->p == '_')
        return *c->p == 'T' && c->end - c->p >= 2 && is_digit(c->p[1]);
    if ((*c->p == '/' || *c->p == '-') && c->end - c->p >= 2
        && is_digit(c->p[1]))
        return 0;
    return 1;
}

ndx_status
ndx_date_find(const char *text, size_t len, int32_t *days)
{
    size_t i;

    if (!text)
        return ndx_error(NDX_ENOTFOUND, "no date in the text");
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        cursor c = {text + i, text + len};
        long y, m, d;
        int ok = 0;

        if (!(is_digit(ch) || is_alpha(ch)) || !boundary_before(text, i))
            continue;
        if (is_digit(ch))
            ok = parse_forms(&c, digit_forms, FORM_COUNT(digit_forms), &y,
                             &m, &d);
        else
            ok = parse_forms(&c, letter_forms, FORM_COUNT(letter_forms), &y,
                             &m, &d);
        if (ok && boundary_after(&c) && valid_ymd(y, m, d)) {
            *days = ndx_date_from_ymd((int)y, (int)m, (int)d);
            return NDX_OK;
        }
    }
    return ndx_error(NDX_ENOTFOUND, "no date in the text");
}
