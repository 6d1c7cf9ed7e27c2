/*
 * check_main.h - the one main() of the Check unit tests (check_main.c).
 *
 * A test program defines bw_test_suite(); bw_check_test() in
 * tests/CMakeLists.txt links check_main.c, which runs that suite (forking
 * per test, so a crash fails one test, with a default of 60 s per test)
 * and exits non-zero on any failure.
 */
#ifndef BW_CHECK_MAIN_H
#define BW_CHECK_MAIN_H

#include <check.h>

Suite *bw_test_suite(void);

#endif
