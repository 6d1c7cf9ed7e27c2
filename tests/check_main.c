/*
 * check_main.c - run the program's suite (check_main.h).
 */
#include <stdlib.h>

#include "check_main.h"

int main(void)
{
	SRunner *sr;
	int failed;

	/* Check's default of 4 s per test is for a quiet machine; under the
	 * sanitizers on a busy CI runner a correct test can take longer.
	 * CTest's own timeout (300 s per program) still bounds a hang. Read
	 * by tcase_create, so set before the suite is built; an explicit
	 * tcase_set_timeout or CK_DEFAULT_TIMEOUT in the environment wins. */
	setenv("CK_DEFAULT_TIMEOUT", "60", 0);
	sr = srunner_create(bw_test_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
