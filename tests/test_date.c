/*
 * test_date.c - calendar arithmetic, every accepted date form, impossible
 * dates, query ranges, and finding a date in free text.
 *
 * Day numbers were counted by hand: 2025-01-01 is 55 years after
 * 1970-01-01 with 14 leap days (1972..2024) = 20089; April 4 is day 93 of
 * 2025, so 2025-04-04 = 20089 + 93 = 20182.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/article.h"

#define D_2025_01_01 20089
#define D_2025_04_04 20182
#define D_2025_04_17 20195
#define D_2025_04_18 20196
#define D_2025_11_27 20419 /* day 331 of 2025 */
#define D_2025_02_18 20137 /* day 49 */
#define D_1987_02_26 6265  /* 17 years + 4 leap days + 56 */
#define D_1999_02_18 10640 /* 29 years + 7 leap days + 48 */
#define D_2024_02_29 19782 /* 54 years + 13 leap days + 59 */

static int32_t
parse_days(const char *s, int32_t *secs)
{
    int32_t d = 12345, t = 12345;

    if (ndx_date_parse(s, strlen(s), &d, &t) != NDX_OK)
        return NDX_DATE_NONE;
    if (secs)
        *secs = t;
    return d;
}

/* A date and the day it parses to, for expect_days(). */
typedef struct day_case {
    const char *text;
    int32_t days;
} day_case;

/* Each of count cases parses to its day. */
static void
expect_days(const day_case *cases, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        CU_ASSERT_EQUAL(parse_days(cases[i].text, NULL), cases[i].days);
}

/* s parses to the day days, at secs seconds into it (-1: no time). */
static void
expect_time(const char *s, int32_t days, int32_t secs)
{
    int32_t t = 0;

    CU_ASSERT_EQUAL(parse_days(s, &t), days);
    CU_ASSERT_EQUAL(t, secs);
}

static void
test_dates_ymd_known_days(void)
{
    int y, m, d;

    CU_ASSERT_EQUAL(ndx_date_from_ymd(1970, 1, 1), 0);
    CU_ASSERT_EQUAL(ndx_date_from_ymd(1969, 12, 31), -1);
    CU_ASSERT_EQUAL(ndx_date_from_ymd(2025, 1, 1), D_2025_01_01);
    CU_ASSERT_EQUAL(ndx_date_from_ymd(2025, 4, 4), D_2025_04_04);
    CU_ASSERT_EQUAL(ndx_date_from_ymd(2024, 2, 29), D_2024_02_29);
    CU_ASSERT_EQUAL(ndx_date_from_ymd(2000, 3, 1), 11017);
    ndx_date_to_ymd(D_2025_11_27, &y, &m, &d);
    CU_ASSERT(y == 2025 && m == 11 && d == 27);
    ndx_date_to_ymd(-1, &y, &m, &d);
    CU_ASSERT(y == 1969 && m == 12 && d == 31);
    ndx_date_to_ymd(11016, &y, &m, &d);
    CU_ASSERT(y == 2000 && m == 2 && d == 29);
}

static void
test_dates_ymd_round_trip(void)
{
    int32_t days;
    int y, m, d, bad = 0;

    /* 1600-01-01 .. 2400-12-31 in both directions. */
    for (days = -135140; days < 157000; days++) {
        ndx_date_to_ymd(days, &y, &m, &d);
        if (ndx_date_from_ymd(y, m, d) != days || m < 1 || m > 12 || d < 1
            || d > 31)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void
test_dates_format_iso(void)
{
    char out[11];

    ndx_date_format(D_2025_04_04, out);
    CU_ASSERT_STRING_EQUAL(out, "2025-04-04");
    ndx_date_format(0, out);
    CU_ASSERT_STRING_EQUAL(out, "1970-01-01");
    ndx_date_format(NDX_DATE_NONE, out);
    CU_ASSERT_STRING_EQUAL(out, "");
}

static void
test_dates_parse_iso_forms(void)
{
    int32_t t = 0;

    expect_time("2025-04-04", D_2025_04_04, -1);
    expect_time("2025-04-04T10:00:00", D_2025_04_04, 36000);
    expect_time("2025-04-04T10:00:00Z", D_2025_04_04, 36000);
    /* The zone is checked, not applied: the publisher's day stays. */
    expect_time("2025-04-04T23:30:00-05:00", D_2025_04_04, 84600);
    CU_ASSERT_EQUAL(parse_days("2025-04-04T10:00:00.123+0200", &t),
                    D_2025_04_04);
    expect_time("2025-04-04 10:00", D_2025_04_04, 36000);
    expect_time("1987-02-26T15:01:01", D_1987_02_26, 15 * 3600 + 60 + 1);
    static const day_case cases[] = {
        {"  2025-11-27\n", D_2025_11_27},
        {"2024-02-29", D_2024_02_29},
    };

    expect_days(cases, sizeof cases / sizeof cases[0]);
}

static void
test_dates_parse_month_names(void)
{
    expect_time("April 17, 2025", D_2025_04_17, -1);
    static const day_case cases[] = {
        {"Apr 17, 2025", D_2025_04_17},
        {"Apr. 17, 2025", D_2025_04_17},
        {"april 17 2025", D_2025_04_17},
        {"April 17th, 2025", D_2025_04_17},
        {"17 April 2025", D_2025_04_17},
        {"17 Apr 2025", D_2025_04_17},
        {"Friday, April 18, 2025", D_2025_04_18},
        {"Fri, April 18, 2025", D_2025_04_18},
        {"Tuesday, February 18, 2025", D_2025_02_18},
        {"Sept. 1, 2025", D_2025_01_01 + 243}, /* day 244 */
    };

    expect_days(cases, sizeof cases / sizeof cases[0]);
    expect_time("April 17, 2025 3:05 p.m. ET", D_2025_04_17,
                15 * 3600 + 5 * 60);
}

static void
test_dates_parse_us_short_form(void)
{
    static const day_case cases[] = {
        {"4/4/25", D_2025_04_04},
        {"4/4/2025", D_2025_04_04},
        {"04/04/2025", D_2025_04_04},
        {"11/27/25", D_2025_11_27},
        /* Month first: 2/18 is February 18; two-digit 99 is 1999. */
        {"2/18/99", D_1999_02_18},
        {"2/18/25", D_2025_02_18},
    };

    expect_days(cases, sizeof cases / sizeof cases[0]);
}

static void
test_dates_parse_rfc2822(void)
{
    expect_time("Fri, 18 Apr 2025 10:00:00 GMT", D_2025_04_18, 36000);
    expect_time("18 Apr 2025 10:00:00 +0000", D_2025_04_18, 36000);
    expect_time("Fri, 18 Apr 2025 23:59:60 -0500", D_2025_04_18, 86399);
}

static void
test_dates_parse_rejects_impossible_dates(void)
{
    static const char *const bad[] = {
        "2025-02-30", "2025-13-01", "2025-00-10", "2025-04-31",
        "February 29, 2025", "2/30/25", "13/1/25", "", "   ", "yesterday",
        "2025-04-04 junk", "April 2025", "April 32, 2025", "2025",
        "2025-04-04T25:00:00", "2025-04-04T10:61", "4/4/225", "Friday",
        "0000-01-01", "2025-4-4-4",
    };
    size_t i;
    int32_t d, t;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ndx_status st = ndx_date_parse(bad[i], strlen(bad[i]), &d, &t);
        CU_ASSERT_EQUAL(st, NDX_EINVAL);
        if (st != NDX_EINVAL)
            fprintf(stderr, "accepted '%s'\n", bad[i]);
    }
    CU_ASSERT(strstr(ndx_errmsg(), "2025-4-4-4") != NULL);
}

static void
test_dates_parse_only_the_given_length(void)
{
    int32_t d = 0;

    /* The bytes after len are not part of the date. */
    CU_ASSERT_EQUAL(ndx_date_parse("2025-04-04xyz", 10, &d, NULL), NDX_OK);
    CU_ASSERT_EQUAL(d, D_2025_04_04);
    /* Cut inside the day: "2025-04-0" has day 0. */
    CU_ASSERT_EQUAL(ndx_date_parse("2025-04-04", 9, &d, NULL), NDX_EINVAL);
}

static void
range_is(const char *s, int32_t first, int32_t last)
{
    int32_t a = 1, b = 1;

    CU_ASSERT_EQUAL_FATAL(ndx_date_parse_range(s, strlen(s), &a, &b),
                          NDX_OK);
    CU_ASSERT_EQUAL(a, first);
    CU_ASSERT_EQUAL(b, last);
}

static void
test_dates_range_of_partial_dates(void)
{
    int32_t a, b;

    range_is("2025", D_2025_01_01, D_2025_01_01 + 364);
    /* April 2025: day 91 .. day 120 of the year. */
    range_is("2025-04", D_2025_01_01 + 90, D_2025_01_01 + 119);
    range_is("2024-02", D_2024_02_29 - 28, D_2024_02_29);
    range_is("2025-04-04", D_2025_04_04, D_2025_04_04);
    range_is("April 17, 2025", D_2025_04_17, D_2025_04_17);
    range_is("April 2025", D_2025_01_01 + 90, D_2025_01_01 + 119);
    range_is("2025-04-01..2025-04-30", D_2025_01_01 + 90,
             D_2025_01_01 + 119);
    range_is("2024..2025-01", D_2024_02_29 - 59, D_2025_01_01 + 30);
    CU_ASSERT_EQUAL(ndx_date_parse_range("2025-13", 7, &a, &b), NDX_EINVAL);
    CU_ASSERT_EQUAL(ndx_date_parse_range("20x5", 4, &a, &b), NDX_EINVAL);
    CU_ASSERT_EQUAL(ndx_date_parse_range("", 0, &a, &b), NDX_EINVAL);
    CU_ASSERT_EQUAL(ndx_date_parse_range("2025-05..2025-04", 16, &a, &b),
                    NDX_EINVAL);
}

static int32_t
find_days(const char *s)
{
    int32_t d = 7;

    if (ndx_date_find(s, strlen(s), &d) != NDX_OK)
        return NDX_DATE_NONE;
    return d;
}

static void
test_dates_find_first_date_in_text(void)
{
    CU_ASSERT_EQUAL(find_days("Update, 4/4/25, 3:05 p.m. ET: A comment by a "
                              "State Department spokesperson was added."),
                    D_2025_04_04);
    CU_ASSERT_EQUAL(find_days("distributed by the Press Service on Friday, "
                              "April 18, 2025, the launcher fires"),
                    D_2025_04_18);
    CU_ASSERT_EQUAL(find_days("published 2025-11-27T10:00 in Kyiv"),
                    D_2025_11_27);
    CU_ASSERT_EQUAL(find_days("from 17 April 2025 to later"), D_2025_04_17);
    /* The first one wins. */
    CU_ASSERT_EQUAL(find_days("On April 17, 2025 and again 4/4/25"),
                    D_2025_04_17);
    CU_ASSERT_EQUAL(find_days("x\n date 2025-11-27 The United States"),
                    D_2025_11_27);
    /* Not dates: a year alone, "Mayor", a fraction, an impossible day,
     * a number run into a word. */
    CU_ASSERT_EQUAL(find_days("a 2008 promise, said Mayor Ihor Terekhov"),
                    NDX_DATE_NONE);
    CU_ASSERT_EQUAL(find_days("March on Washington, 5 people, 24/7"),
                    NDX_DATE_NONE);
    CU_ASSERT_EQUAL(find_days("on 2/30/25 nothing"), NDX_DATE_NONE);
    CU_ASSERT_EQUAL(find_days("build v1/2/2025 and x2025-04-04"),
                    NDX_DATE_NONE);
    CU_ASSERT_EQUAL(find_days(""), NDX_DATE_NONE);
    CU_ASSERT_EQUAL(ndx_date_find("no date here", 12, &(int32_t){0}),
                    NDX_ENOTFOUND);
}

CU_TestInfo date_tests[] = {
    {"test_dates_ymd_known_days", test_dates_ymd_known_days},
    {"test_dates_ymd_round_trip", test_dates_ymd_round_trip},
    {"test_dates_format_iso", test_dates_format_iso},
    {"test_dates_parse_iso_forms", test_dates_parse_iso_forms},
    {"test_dates_parse_month_names", test_dates_parse_month_names},
    {"test_dates_parse_us_short_form", test_dates_parse_us_short_form},
    {"test_dates_parse_rfc2822", test_dates_parse_rfc2822},
    {"test_dates_parse_rejects_impossible_dates",
     test_dates_parse_rejects_impossible_dates},
    {"test_dates_parse_only_the_given_length",
     test_dates_parse_only_the_given_length},
    {"test_dates_range_of_partial_dates", test_dates_range_of_partial_dates},
    {"test_dates_find_first_date_in_text",
     test_dates_find_first_date_in_text},
    CU_TEST_INFO_NULL,
};
