/*
 * test_source.c - source keys: case, punctuation, domains, "the", the
 * built-in aliases, and user aliases added by call or loaded from a file.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/article.h"
#include "support.h"

static const char *
key(const char *name)
{
    static char out[2][128];
    static int which;

    which ^= 1;
    ndx_source_key(name, out[which], sizeof out[which]);
    return out[which];
}

static void
test_sources_key_folds_case_and_punctuation(void)
{
    CU_ASSERT_STRING_EQUAL(key("USA TODAY"), "usatoday");
    CU_ASSERT_STRING_EQUAL(key("USA Today"), "usatoday");
    CU_ASSERT_STRING_EQUAL(key("usa today"), "usatoday");
    CU_ASSERT_STRING_EQUAL(key("  Newsweek \n"), "newsweek");
    CU_ASSERT_STRING_EQUAL(key("Democracy Now!"), "democracynow");
    CU_ASSERT_STRING_EQUAL(key("Chicago Sun-Times"), "chicagosuntimes");
    CU_ASSERT_STRING_EQUAL(key("DesMoines Register"), "desmoinesregister");
    CU_ASSERT_STRING_EQUAL(key("Des Moines Register"), "desmoinesregister");
    /* Accents go, non-Latin letters stay. */
    CU_ASSERT_STRING_EQUAL(key("Mit\xc3\xba"), "mitu");
    CU_ASSERT_STRING_EQUAL(key("Die Zeit \xc3\x9c"), "diezeitu");
    CU_ASSERT_STRING_EQUAL(key("\xd0\x9a\xd0\xb8\xd0\xb5\xd0\xb2"),
                           "\xd0\xba\xd0\xb8\xd0\xb5\xd0\xb2");
    CU_ASSERT_STRING_EQUAL(key(""), "");
    CU_ASSERT_STRING_EQUAL(key("!!!"), "");
    /* Invalid UTF-8 keeps its ASCII letters. */
    CU_ASSERT_STRING_EQUAL(key("News\xff Week"), "newsweek");
}

static void
test_sources_key_drops_www_and_domain(void)
{
    CU_ASSERT_STRING_EQUAL(key("usatoday.com"), "usatoday");
    CU_ASSERT_STRING_EQUAL(key("www.usatoday.com"), "usatoday");
    CU_ASSERT_STRING_EQUAL(key("https://www.foxnews.com/politics/x-y"),
                           "foxnews");
    CU_ASSERT_STRING_EQUAL(key("Salon.com"), "salon");
    CU_ASSERT_STRING_EQUAL(key("npr.org"), "npr");
    CU_ASSERT_STRING_EQUAL(key("www.independent.co.uk"), "independent");
    CU_ASSERT_STRING_EQUAL(key("CNSNews.com"), "cnsnews");
    /* A dot inside a name is not a domain. */
    CU_ASSERT_STRING_EQUAL(key("U.S. News"), "usnews");
}

static void
test_sources_key_drops_leading_the(void)
{
    CU_ASSERT_STRING_EQUAL(key("The Washington Times"), "washingtontimes");
    CU_ASSERT_STRING_EQUAL(key("washingtontimes.com"), "washingtontimes");
    CU_ASSERT_STRING_EQUAL(key("the christian science monitor"),
                           "christiansciencemonitor");
    CU_ASSERT_STRING_EQUAL(key("The"), "the");
    CU_ASSERT_STRING_EQUAL(key("Theblaze"), "theblaze");
    CU_ASSERT_STRING_EQUAL(key("Theater Weekly"), "theaterweekly");
}

static void
test_sources_builtin_aliases_join_names_and_domains(void)
{
    CU_ASSERT_STRING_EQUAL(key("The New York Times"), "newyorktimes");
    CU_ASSERT_STRING_EQUAL(key("nytimes.com"), "newyorktimes");
    CU_ASSERT_STRING_EQUAL(key("https://www.nytimes.com/2025/04/04/x.html"),
                           "newyorktimes");
    CU_ASSERT_STRING_EQUAL(key("The Hill"), "hill");
    CU_ASSERT_STRING_EQUAL(key("thehill.com"), "hill");
    CU_ASSERT_STRING_EQUAL(key("The Wall Street Journal"),
                           "wallstreetjournal");
    CU_ASSERT_STRING_EQUAL(key("WSJ"), "wallstreetjournal");
    CU_ASSERT_STRING_EQUAL(key("The Washington Post"), "washingtonpost");
    CU_ASSERT_STRING_EQUAL(key("washingtonpost.com"), "washingtonpost");
    CU_ASSERT_STRING_EQUAL(key("Fox News"), "foxnews");
    CU_ASSERT_STRING_EQUAL(key("The Guardian"), "guardian");
    CU_ASSERT_STRING_EQUAL(key("theguardian.com"), "guardian");
    CU_ASSERT_STRING_EQUAL(key("csmonitor.com"), "christiansciencemonitor");
    CU_ASSERT_STRING_EQUAL(key("Associated Press"), "associatedpress");
    CU_ASSERT_STRING_EQUAL(key("apnews.com"), "associatedpress");
    CU_ASSERT_STRING_EQUAL(key("AP"), "associatedpress");
    CU_ASSERT_STRING_EQUAL(key("TheBlaze"), "theblaze");
    CU_ASSERT_STRING_EQUAL(key("The Blaze"), "theblaze");
    CU_ASSERT_STRING_EQUAL(key("BBC News"), "bbcnews");
    CU_ASSERT_STRING_EQUAL(key("bbc.co.uk"), "bbcnews");
    CU_ASSERT_STRING_EQUAL(key("nypost.com"), "newyorkpost");
}

static void
test_sources_key_respects_out_cap(void)
{
    char out[5];

    CU_ASSERT_EQUAL(ndx_source_key("Newsweek", out, sizeof out), 4);
    CU_ASSERT_STRING_EQUAL(out, "news");
    CU_ASSERT_EQUAL(ndx_source_key("Newsweek", out, 1), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    /* A cut never splits a UTF-8 character: "кие" is 6 bytes. */
    CU_ASSERT_EQUAL(ndx_source_key("\xd0\x9a\xd0\xb8\xd0\xb5", out,
                                   sizeof out), 4);
}

static void
test_sources_alias_add_maps_to_canonical_key(void)
{
    CU_ASSERT_STRING_EQUAL(key("Kyiv Post Daily"), "kyivpostdaily");
    CU_ASSERT_EQUAL(ndx_source_alias_add("Kyiv Post Daily", "Kyiv Post"),
                    NDX_OK);
    CU_ASSERT_STRING_EQUAL(key("Kyiv Post Daily"), "kyivpost");
    CU_ASSERT_STRING_EQUAL(key("KYIV-POST-DAILY"), "kyivpost");
    /* The canonical name goes through the aliases too. */
    CU_ASSERT_EQUAL(ndx_source_alias_add("Gray Lady", "nytimes.com"), NDX_OK);
    CU_ASSERT_STRING_EQUAL(key("The Gray Lady"), "newyorktimes");
    CU_ASSERT_STRING_EQUAL(key("gray lady"), "newyorktimes");
    /* A later alias replaces an earlier one. */
    CU_ASSERT_EQUAL(ndx_source_alias_add("Gray Lady", "Newsday"), NDX_OK);
    CU_ASSERT_STRING_EQUAL(key("gray lady"), "newsday");
    CU_ASSERT_EQUAL(ndx_source_alias_add("!!", "Newsday"), NDX_EINVAL);
}

static void
test_sources_alias_load_reads_tab_file(void)
{
    const char *dir = t_tmpdir();
    char path[512], bad[512];
    static const char good_text[] =
        "# outlets known by a nickname\n"
        "\n"
        "Beeb\tBBC News\n"
        "  # indented comment\n"
        "Ze Paper\tThe Example Gazette\r\n";
    static const char bad_text[] = "Fine One\tFine\nno tab on this line\n";

    snprintf(path, sizeof path, "%s/aliases.tsv", dir);
    snprintf(bad, sizeof bad, "%s/bad.tsv", dir);
    CU_ASSERT_EQUAL_FATAL(t_write(path, good_text, sizeof good_text - 1), 0);
    CU_ASSERT_EQUAL_FATAL(t_write(bad, bad_text, sizeof bad_text - 1), 0);
    CU_ASSERT_EQUAL(ndx_source_alias_load(path), NDX_OK);
    CU_ASSERT_STRING_EQUAL(key("beeb"), "bbcnews");
    CU_ASSERT_STRING_EQUAL(key("Ze Paper"), "examplegazette");
    CU_ASSERT_EQUAL(ndx_source_alias_load(bad), NDX_EINVAL);
    CU_ASSERT(strstr(ndx_errmsg(), "bad.tsv:2") != NULL);
    snprintf(path, sizeof path, "%s/missing.tsv", dir);
    CU_ASSERT_EQUAL(ndx_source_alias_load(path), NDX_ENOTFOUND);
}

CU_TestInfo source_tests[] = {
    {"test_sources_key_folds_case_and_punctuation",
     test_sources_key_folds_case_and_punctuation},
    {"test_sources_key_drops_www_and_domain",
     test_sources_key_drops_www_and_domain},
    {"test_sources_key_drops_leading_the",
     test_sources_key_drops_leading_the},
    {"test_sources_builtin_aliases_join_names_and_domains",
     test_sources_builtin_aliases_join_names_and_domains},
    {"test_sources_key_respects_out_cap", test_sources_key_respects_out_cap},
    {"test_sources_alias_add_maps_to_canonical_key",
     test_sources_alias_add_maps_to_canonical_key},
    {"test_sources_alias_load_reads_tab_file",
     test_sources_alias_load_reads_tab_file},
    CU_TEST_INFO_NULL,
};
