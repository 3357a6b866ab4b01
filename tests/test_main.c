/*
 * test_main.c - the suite registry: one suite per tests/test_<name>.c,
 * listed by the build in suites.inc.  Run one suite with
 * `build/newsdex-tests SUITE`.
 *
 * A suite that needs set-up and tear-down defines
 * `int NAME_suite_init(void)` and `int NAME_suite_cleanup(void)` (0 on
 * success, as CUnit wants); the others do not, and their weak references
 * stay NULL.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "support.h"

#define SUITE(n)                                                          \
    extern CU_TestInfo n##_tests[];                                       \
    extern int n##_suite_init(void) __attribute__((weak));                \
    extern int n##_suite_cleanup(void) __attribute__((weak));
#include "suites.inc"
#undef SUITE

int
main(int argc, char **argv)
{
    CU_SuiteInfo all[] = {
#define SUITE(n)                                                          \
    {#n, n##_suite_init, n##_suite_cleanup, NULL, NULL, n##_tests},
#include "suites.inc"
#undef SUITE
        CU_SUITE_INFO_NULL,
    };
    CU_SuiteInfo one[2] = {CU_SUITE_INFO_NULL, CU_SUITE_INFO_NULL};
    unsigned failed;
    size_t i;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (argc > 1) {
        for (i = 0; all[i].pName; i++)
            if (strcmp(all[i].pName, argv[1]) == 0)
                one[0] = all[i];
        if (!one[0].pName) {
            fprintf(stderr, "no suite named %s\n", argv[1]);
            return 2;
        }
    }
    if (CU_register_suites(argc > 1 ? one : all) != CUE_SUCCESS) {
        fprintf(stderr, "%s\n", CU_get_error_msg());
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    /* One line for CI to read: a skipped test counts as run (and passed)
     * in CUnit's summary, so the skips are counted here. */
    printf("\nnewsdex-tests: %u tests run, %u failed, %u skipped\n",
           CU_get_number_of_tests_run(), CU_get_number_of_tests_failed(),
           t_skipped());
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
