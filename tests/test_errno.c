/* SPDX-License-Identifier: MIT */
/* TDP_E* values equal the host's errno values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tdp/tdp.h>

static void test_errno_values(void **state)
{
	(void)state;
	assert_int_equal(TDP_ENOENT, ENOENT);
	assert_int_equal(TDP_EAGAIN, EAGAIN);
	assert_int_equal(TDP_ENOMEM, ENOMEM);
	assert_int_equal(TDP_EBUSY, EBUSY);
	assert_int_equal(TDP_EEXIST, EEXIST);
	assert_int_equal(TDP_EINVAL, EINVAL);
	assert_int_equal(TDP_ERANGE, ERANGE);
	assert_int_equal(TDP_EOPNOTSUPP, EOPNOTSUPP);
}

static void test_errno_distinct(void **state)
{
	const int v[] = { TDP_ENOENT, TDP_EAGAIN, TDP_ENOMEM, TDP_EBUSY,
			  TDP_EEXIST, TDP_EINVAL, TDP_ERANGE, TDP_EOPNOTSUPP };

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_true(v[i] > 0);
		for (size_t j = i + 1; j < sizeof(v) / sizeof(v[0]); j++)
			assert_int_not_equal(v[i], v[j]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_values),
		cmocka_unit_test(test_errno_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
