/* Time zones and time formats: our TZif reader against glibc's localtime_r (used here only as an
 * oracle, single-threaded) over many zones and instants, and the layout notations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "../../piper/timefmt.h"
#include "../../piper/tz.h"

static void test_tz_against_libc(void **state)
{
    (void)state;
    static const char *const zones[] = {"America/New_York", "Europe/Paris", "Australia/Sydney", "Asia/Kolkata",
                                        "America/Sao_Paulo", "Europe/London", "Pacific/Auckland", "Asia/Tokyo",
                                        "America/St_Johns", "Africa/Casablanca", "UTC"};
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        tz_zone *tz;
        assert_int_equal(tz_load(zones[z], &tz), 0);
        setenv("TZ", zones[z], 1);
        tzset();
        uint64_t r = 88172645463325252ull;
        for (int i = 0; i < 3000; i++) {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17;
            /* 1971 .. 2099 */
            int64_t t = 31536000 + (int64_t)(r % 4039372800ull);
            time_t tt = (time_t)t;
            struct tm tm;
            localtime_r(&tt, &tm);
            int32_t ours = tz_offset_at_utc(tz, t);
            if (ours != tm.tm_gmtoff)
                print_error("%s at %lld: ours %d libc %ld\n", zones[z], (long long)t, ours, tm.tm_gmtoff);
            assert_int_equal(ours, tm.tm_gmtoff);
            /* local -> utc round trip (skip instants within 3h of a change: gaps/overlaps) */
            int64_t local = t + ours;
            if (tz_offset_at_utc(tz, t - 10800) == ours && tz_offset_at_utc(tz, t + 10800) == ours)
                assert_int_equal(tz_offset_for_local(tz, local), ours);
        }
        tz_free(tz);
    }
    unsetenv("TZ");
}

static void test_tz_names(void **state)
{
    (void)state;
    tz_zone *z;
    assert_int_equal(tz_load("+05:30", &z), 0);
    assert_int_equal(tz_offset_at_utc(z, 0), 19800);
    tz_free(z);
    assert_int_equal(tz_load("-0800", &z), 0);
    assert_int_equal(tz_offset_at_utc(z, 0), -28800);
    tz_free(z);
    assert_int_equal(tz_load("Nowhere/City", &z), -2);
    assert_int_equal(tz_load("../etc/passwd", &z), -22);
    assert_int_equal(tz_load("", &z), -22);
}

typedef struct tcase { const char *fmt, *tz, *in; long long sec; int nsec; } tcase;
static const tcase T[] = {
    {"ISO8601", "UTC", "2024-02-29T23:59:59Z", 1709251199, 0},
    {"ISO8601", "UTC", "2024-02-29 23:59:59.123456+05:30", 1709231399, 123456000},
    {"RFC3339", "Europe/Paris", "2024-07-01T12:00:00", 1719828000, 0},
    {"2006-01-02T15:04:05.000Z07:00", "UTC", "2023-11-14T22:13:20.5Z", 1700000000, 500000000},
    {"Mon Jan _2 15:04:05 2006", "UTC", "Tue Nov 14 22:13:20 2023", 1700000000, 0},
    {"ANSIC", "UTC", "Tue Nov  7 22:13:20 2023", 1699395200, 0},
    {"RFC1123", "UTC", "Tue, 14 Nov 2023 22:13:20 GMT", 1700000000, 0},
    {"RFC1123Z", "UTC", "Tue, 14 Nov 2023 23:13:20 +0100", 1700000000, 0},
    {"01/02/2006 3:04:05 PM", "UTC", "11/14/2023 10:13:20 PM", 1700000000, 0},
    {"dd/MMM/yyyy:HH:mm:ss Z", "UTC", "14/Nov/2023:22:13:20 +0000", 1700000000, 0},
    {"yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "UTC", "2023-11-14T23:13:20.250+01:00", 1700000000, 250000000},
    {"EEE MMM dd HH:mm:ss yyyy", "UTC", "Tue Nov 14 22:13:20 2023", 1700000000, 0},
    {"%Y-%m-%dT%H:%M:%S%z", "UTC", "2023-11-14T17:13:20-0500", 1700000000, 0},
    {"%F %T", "Asia/Tokyo", "2023-11-15 07:13:20", 1700000000, 0},
    {"%d/%b/%Y:%H:%M:%S %z", "UTC", "14/Nov/2023:22:13:20 +0000", 1700000000, 0},
    {"UNIX_MS", "UTC", "1700000000123", 1700000000, 123000000},
    {"UNIX_US", "UTC", "1700000000123456", 1700000000, 123456000},
    {"UNIX_NS", "UTC", "1700000000123456789", 1700000000, 123456789},
    {"unix", "UTC", "1700000000.25", 1700000000, 250000000},
    {"2006-01-02", "UTC", "2023-02-30", -1, 0},
    {"2006-01-02 15:04", "UTC", "2023-01-01 25:00", -1, 0},
    {"2006-01-02", "UTC", "2023-01-01 trailing", -1, 0},
    {"15:04:05 MST 2006-01-02", "UTC", "22:13:20 EST 2023-11-14", 1700018000, 0},
};

static void test_formats(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        tf_layout *l;
        char err[128];
        assert_int_equal(tf_compile(T[i].fmt, &l, err, sizeof err), 0);
        tz_zone *z;
        assert_int_equal(tz_load(T[i].tz, &z), 0);
        tf_time t = {0, 0};
        int rc = tf_parse(l, T[i].in, strlen(T[i].in), z, 1764237600, &t);
        if (T[i].sec < 0) {
            if (rc == 0)
                print_error("case %zu '%s' should fail, got %lld\n", i, T[i].in, (long long)t.sec);
            assert_int_not_equal(rc, 0);
        } else {
            if (rc || t.sec != T[i].sec || t.nsec != T[i].nsec)
                print_error("case %zu %s '%s': rc=%d %lld.%09d\n", i, T[i].fmt, T[i].in, rc, (long long)t.sec, t.nsec);
            assert_int_equal(rc, 0);
            assert_int_equal(t.sec, T[i].sec);
            assert_int_equal(t.nsec, T[i].nsec);
        }
        tf_free(l);
        tz_free(z);
    }
}

static void test_format_out(void **state)
{
    (void)state;
    tz_zone *z;
    char out[48];
    assert_int_equal(tz_load("Asia/Kolkata", &z), 0);
    tf_format_rfc3339((tf_time){1700000000, 0}, z, out, sizeof out);
    assert_string_equal(out, "2023-11-15T03:43:20+05:30");
    tf_format_rfc3339((tf_time){-1, 500000000}, NULL, out, sizeof out);
    assert_string_equal(out, "1969-12-31T23:59:59.500Z");
    tz_free(z);
    tf_time t;
    assert_int_equal(tf_from_integer(1700000000, &t), 0);
    assert_int_equal(t.sec, 1700000000);
    assert_int_equal(tf_from_integer(1700000000000000LL, &t), 0);
    assert_int_equal(t.sec, 1700000000);
    assert_int_not_equal(tf_from_number(-5, &t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_against_libc),
        cmocka_unit_test(test_tz_names),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_format_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
