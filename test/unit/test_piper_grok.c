/* Grok compiler and matcher over our pattern library: each case is expression, subject and the
 * expected capture object ("null" = must not match). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "../../piper/grok.h"
#include "../../piper/grok_patterns.h"

typedef struct gcase { const char *expr, *subj, *want; } gcase;

static const gcase CASES[] = {
    /* base */
    {"%{INT:n}", "x -42 y", "{\"n\":\"-42\"}"},
    {"%{INT:n:int}", "count=17", "{\"n\":17}"},
    {"%{NUMBER:n:float}", "t=3.25s", "{\"n\":3.25}"},
    {"%{NUMBER:n}", "v .5", "{\"n\":\".5\"}"},
    {"%{NUMBER:n:int}", "big 9223372036854775807", "{\"n\":9223372036854775807}"},
    {"%{BASE16NUM:h}", "0x1fA3 seen", "{\"h\":\"0x1fA3\"}"},
    {"^%{POSINT:p}$", "0", "null"},
    {"%{NONNEGINT:p}", "a 0 b", "{\"p\":\"0\"}"},
    {"%{WORD:w}", "  hello_world!", "{\"w\":\"hello_world\"}"},
    {"%{NOTSPACE:a} %{NOTSPACE:b}", "x=1 y=2", "{\"a\":\"x=1\",\"b\":\"y=2\"}"},
    {"%{DATA:a},%{GREEDYDATA:b}", "one,two,three", "{\"a\":\"one\",\"b\":\"two,three\"}"},
    {"%{QUOTEDSTRING:q}", "say \"hi \\\"there\\\"\" now", "{\"q\":\"\\\"hi \\\\\\\"there\\\\\\\"\\\"\"}"},
    {"%{QS:q}", "x 'single' y", "{\"q\":\"'single'\"}"},
    {"%{UUID:u}", "id=123e4567-e89b-12d3-a456-426614174000;", "{\"u\":\"123e4567-e89b-12d3-a456-426614174000\"}"},
    {"%{USERNAME:u}", "user: j.doe-1", "{\"u\":\"user\"}"},
    {"%{EMAILADDRESS:e}", "to <alice.smith+tag@example.co.uk>", "{\"e\":\"alice.smith+tag@example.co.uk\"}"},
    {"%{BOOLX:b:bool}", "flag=true", "null"},
    /* network */
    {"%{IPV4:ip}", "from 192.168.1.254 port", "{\"ip\":\"192.168.1.254\"}"},
    {"^%{IPV4:ip}$", "256.1.1.1", "null"},
    {"%{IPV4:ip}", "1.2.3.4.5", "{\"ip\":\"1.2.3.4\"}"},
    {"%{IPV6:ip}", "src 2001:db8::1 dst", "{\"ip\":\"2001:db8::1\"}"},
    {"%{IPV6:ip}", "fe80::1:2%eth0 up", "{\"ip\":\"fe80::1:2%eth0\"}"},
    {"%{IPV6:ip}", "::1", "{\"ip\":\"::1\"}"},
    {"%{IPV6:ip}", "addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "{\"ip\":\"2001:0db8:85a3:0000:0000:8a2e:0370:7334\"}"},
    {"%{IPV6:ip}", "::ffff:10.0.0.1", "{\"ip\":\"::ffff:10.0.0.1\"}"},
    {"%{IP:ip}", "client 10.0.0.7", "{\"ip\":\"10.0.0.7\"}"},
    {"%{IP:ip}", "client ::", "{\"ip\":\"::\"}"},
    {"%{MAC:m}", "hw 00:1A:2b:3c:4D:5e", "{\"m\":\"00:1A:2b:3c:4D:5e\"}"},
    {"%{MAC:m}", "hw 001a.2b3c.4d5e", "{\"m\":\"001a.2b3c.4d5e\"}"},
    {"%{MAC:m}", "hw 00-1a-2b-3c-4d-5e", "{\"m\":\"00-1a-2b-3c-4d-5e\"}"},
    {"%{HOSTNAME:h}", "db-01.prod.example.com up", "{\"h\":\"db-01.prod.example.com\"}"},
    {"%{IPORHOST:h}:%{POSINT:p:int}", "connect api.local:8443", "{\"h\":\"api.local\",\"p\":8443}"},
    {"%{HOSTPORT:hp}", "to 10.1.1.1:53", "{\"hp\":\"10.1.1.1:53\"}"},
    /* paths, URIs */
    {"%{UNIXPATH:p}", "open /var/log/app/x.log failed", "{\"p\":\"/var/log/app/x.log\"}"},
    {"%{WINPATH:p}", "file C:\\Windows\\System32\\cmd.exe", "{\"p\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\"}"},
    {"%{TTY:t}", "on /dev/pts/3", "{\"t\":\"/dev/pts/3\"}"},
    {"%{URIPROTO:s}://%{URIHOST:h}%{URIPATHPARAM:p}", "https://example.com:8080/a/b?x=1&y=2", "{\"s\":\"https\",\"h\":\"example.com:8080\",\"p\":\"/a/b?x=1&y=2\"}"},
    {"%{URI:u}", "see http://user:pw@host.org/path?q=1 ok", "{\"u\":\"http://user:pw@host.org/path?q=1\"}"},
    {"%{URIPATH:p}", "GET /index.html", "{\"p\":\"/index.html\"}"},
    /* dates */
    {"%{TIMESTAMP_ISO8601:ts}", "at 2024-03-10T12:34:56.789+02:00 ok", "{\"ts\":\"2024-03-10T12:34:56.789+02:00\"}"},
    {"%{TIMESTAMP_ISO8601:ts}", "2024-03-10 12:34:56Z", "{\"ts\":\"2024-03-10 12:34:56Z\"}"},
    {"%{HTTPDATE:d}", "[10/Oct/2000:13:55:36 -0700]", "{\"d\":\"10/Oct/2000:13:55:36 -0700\"}"},
    {"%{SYSLOGTIMESTAMP:d}", "Nov  3 01:02:03 host", "{\"d\":\"Nov  3 01:02:03\"}"},
    {"%{DATE_US:d}", "on 12/31/2023", "{\"d\":\"12/31/2023\"}"},
    {"%{DATE_EU:d}", "am 31.12.2023", "{\"d\":\"31.12.2023\"}"},
    {"%{DATESTAMP:d}", "11-05-2023 10:11:12", "{\"d\":\"11-05-2023 10:11:12\"}"},
    {"%{TIME:t}", "at 23:59:60", "{\"t\":\"23:59:60\"}"},
    {"^%{TIME:t}$", "24:00:00", "null"},
    {"%{DATESTAMP_RFC2822:d}", "Tue, 14 Nov 2023 22:13:20 +0000", "{\"d\":\"Tue, 14 Nov 2023 22:13:20 +0000\"}"},
    {"%{DATESTAMP_OTHER:d}", "Tue Nov 14 22:13:20 UTC 2023", "{\"d\":\"Tue Nov 14 22:13:20 UTC 2023\"}"},
    {"%{DATESTAMP_EVENTLOG:d}", "20231114221320", "{\"d\":\"20231114221320\"}"},
    {"%{MONTH:m} %{MONTHDAY:d} %{YEAR:y}", "September 9 2021", "{\"m\":\"September\",\"d\":\"9\",\"y\":\"2021\"}"},
    {"%{DAY:d}", "Wednesday", "{\"d\":\"Wednesday\"}"},
    /* syslog */
    {"%{SYSLOGBASE} %{GREEDYDATA:msg}", "Nov  3 01:02:03 web1 sshd[1234]: Accepted publickey for bob",
     "{\"timestamp\":\"Nov  3 01:02:03\",\"logsource\":\"web1\",\"program\":\"sshd\",\"pid\":\"1234\",\"msg\":\"Accepted publickey for bob\"}"},
    {"%{SYSLOGLINE}", "Jan 12 10:00:00 fw01 kernel: DROP IN=eth0",
     "{\"timestamp\":\"Jan 12 10:00:00\",\"logsource\":\"fw01\",\"program\":\"kernel\",\"message\":\"DROP IN=eth0\"}"},
    {"%{SYSLOGPROG}", "cron[77]", "{\"program\":\"cron\",\"pid\":\"77\"}"},
    {"%{SYSLOGFACILITY}", "<4.3>", "{\"facility\":\"4\",\"priority\":\"3\"}"},
    {"%{SYSLOG5424LINE}", "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed",
     "{\"syslog5424_pri\":\"34\",\"syslog5424_ver\":\"1\",\"syslog5424_ts\":\"2003-10-11T22:14:15.003Z\",\"syslog5424_host\":\"mymachine.example.com\",\"syslog5424_app\":\"su\",\"syslog5424_msgid\":\"ID47\",\"syslog5424_msg\":\"'su root' failed\"}"},
    {"\\[%{LOGLEVEL:l}\\]", "2024 [WARNING] disk", "{\"l\":\"WARNING\"}"},
    {"%{LOGLEVEL:l}", "level=err", "{\"l\":\"err\"}"},
    /* HTTP */
    {"%{COMMONAPACHELOG}", "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326",
     "{\"client\":\"127.0.0.1\",\"ident\":\"-\",\"auth\":\"frank\",\"timestamp\":\"10/Oct/2000:13:55:36 -0700\",\"method\":\"GET\",\"request\":\"/apache_pb.gif\",\"http_version\":\"1.0\",\"status\":\"200\",\"bytes\":\"2326\"}"},
    {"%{COMBINEDAPACHELOG}", "10.0.0.1 - - [27/Nov/2025:10:00:00 +0000] \"POST /api/v1/x HTTP/1.1\" 201 - \"https://ref.example/\" \"curl/8.4.0\"",
     "{\"client\":\"10.0.0.1\",\"ident\":\"-\",\"auth\":\"-\",\"timestamp\":\"27/Nov/2025:10:00:00 +0000\",\"method\":\"POST\",\"request\":\"/api/v1/x\",\"http_version\":\"1.1\",\"status\":\"201\",\"referrer\":\"\\\"https://ref.example/\\\"\",\"agent\":\"\\\"curl/8.4.0\\\"\"}"},
    {"%{COMMONAPACHELOG}", "::1 - - [10/Oct/2000:13:55:36 -0700] \"-\" 400 0",
     "{\"client\":\"::1\",\"ident\":\"-\",\"auth\":\"-\",\"timestamp\":\"10/Oct/2000:13:55:36 -0700\",\"rawrequest\":\"-\",\"status\":\"400\",\"bytes\":\"0\"}"},
    {"%{NGINXACCESS}", "1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/2.0\" 304 0 \"-\" \"Mozilla/5.0\" \"5.6.7.8\"",
     "{\"client\":\"1.2.3.4\",\"ident\":\"-\",\"auth\":\"-\",\"timestamp\":\"01/Jan/2024:00:00:00 +0000\",\"method\":\"GET\",\"request\":\"/\",\"http_version\":\"2.0\",\"status\":\"304\",\"bytes\":\"0\",\"referrer\":\"\\\"-\\\"\",\"agent\":\"\\\"Mozilla/5.0\\\"\",\"x_forwarded_for\":\"5.6.7.8\"}"},
    {"%{NGINXERROR}", "2024/01/02 03:04:05 [error] 123#0: *45 open() \"/x\" failed",
     "{\"loglevel\":\"error\",\"pid\":\"123\",\"tid\":\"0\",\"connection_id\":\"45\",\"message\":\"open() \\\"/x\\\" failed\"}"},
    {"%{HTTPD_ERRORLOG}", "[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration",
     "{\"timestamp\":\"Wed Oct 11 14:32:52 2000\",\"loglevel\":\"error\",\"clientip\":\"127.0.0.1\",\"message\":\"client denied by server configuration\"}"},
    {"%{HTTPMETHOD:m} %{URIPATH:p} %{HTTPVERSION}", "DELETE /x HTTP/1.1", "{\"m\":\"DELETE\",\"p\":\"/x\",\"http_version\":\"1.1\"}"},
    /* firewalls */
    {"%{CISCO_TAGGED_SYSLOG} %{GREEDYDATA:rest}", "<166>Jan 12 2024 10:00:00 asa01 : %ASA-6-302013: Built inbound TCP",
     "{\"syslog_pri\":\"166\",\"timestamp\":\"Jan 12 2024 10:00:00\",\"sysloghost\":\"asa01\",\"ciscotag\":\"ASA-6-302013\",\"rest\":\"Built inbound TCP\"}"},
    {"%{CISCOFW106023}", "Deny tcp src outside:192.0.2.10/4321 dst inside:10.0.0.5/22 by access-group \"OUTSIDE_IN\" [0x0, 0x0]",
     "{\"action\":\"Deny\",\"protocol\":\"tcp\",\"src_interface\":\"outside\",\"src_ip\":\"192.0.2.10\",\"src_port\":\"4321\",\"dst_interface\":\"inside\",\"dst_ip\":\"10.0.0.5\",\"dst_port\":\"22\",\"policy_id\":\"OUTSIDE_IN\",\"hashcode1\":\"0x0\",\"hashcode2\":\"0x0\"}"},
    {"%{CISCOFW302013_302014_302015_302016}", "Built inbound TCP connection 1234 for outside:192.0.2.1/5555 (192.0.2.1/5555) to inside:10.1.1.1/443 (203.0.113.1/443)",
     "{\"action\":\"Built\",\"direction\":\"inbound\",\"protocol\":\"TCP\",\"connection_id\":\"1234\",\"src_interface\":\"outside\",\"src_ip\":\"192.0.2.1\",\"src_port\":\"5555\",\"src_xlated_ip\":\"192.0.2.1\",\"src_xlated_port\":\"5555\",\"dst_interface\":\"inside\",\"dst_ip\":\"10.1.1.1\",\"dst_port\":\"443\",\"dst_xlated_ip\":\"203.0.113.1\",\"dst_xlated_port\":\"443\"}"},
    {"%{CISCOFW106001}", "Inbound TCP connection denied from 192.0.2.2/1234 to 10.0.0.1/80 flags SYN  on interface outside",
     "{\"direction\":\"Inbound\",\"protocol\":\"TCP\",\"action\":\"denied\",\"src_ip\":\"192.0.2.2\",\"src_port\":\"1234\",\"dst_ip\":\"10.0.0.1\",\"dst_port\":\"80\",\"tcp_flags\":\"SYN \",\"interface\":\"outside\"}"},
    {"%{IPTABLES}", "IN=eth0 OUT= MAC=00:11 SRC=203.0.113.5 DST=10.0.0.2 LEN=60 TOS=0x00 TTL=50 ID=1 DF PROTO=TCP SPT=51000 DPT=22 WINDOW=1",
     "{\"in_interface\":\"eth0\",\"mac\":\"00:11\",\"src_ip\":\"203.0.113.5\",\"dst_ip\":\"10.0.0.2\",\"length\":\"60\",\"protocol\":\"TCP\",\"src_port\":\"51000\",\"dst_port\":\"22\"}"},
    /* field names and types */
    {"%{IP:[src][ip]} %{INT:[src][port]:int}", "10.0.0.1 80", "{\"src\":{\"ip\":\"10.0.0.1\",\"port\":80}}"},
    {"%{IP:source.ip} %{WORD:@tag}", "10.0.0.1 web", "{\"source\":{\"ip\":\"10.0.0.1\"},\"@tag\":\"web\"}"},
    {"%{WORD:Upper_Case}", "Hi", "{\"Upper_Case\":\"Hi\"}"},
    {"%{WORD:b:boolean}", "true", "{\"b\":true}"},
    {"%{WORD:n:int}", "abc", "{\"n\":\"abc\"}"},
    {"(?<raw>\\d+)-%{WORD:w}", "12-ab", "{\"raw\":\"12\",\"w\":\"ab\"}"},
    {"(?P<py>[a-z]+)!", "hey!", "{\"py\":\"hey\"}"},
    {"%{BYTEFREEZER_LOGLEVEL:l} %{BYTEFREEZER_UUID:u}", "INFO 123e4567-e89b-12d3-a456-426614174000", "{\"l\":\"INFO\",\"u\":\"123e4567-e89b-12d3-a456-426614174000\"}"},
    {"literal 100%", "it is literal 100% sure", "{}"},
    {"^%{INT}$", "12a", "null"},
};

static void test_cases(void **state)
{
    (void)state;
    rx_scratch *rx;
    assert_int_equal(rx_scratch_create(&rx), 0);
    int failed = 0;
    grok_opts o = {.keep_empty = false, .overwrite = true};
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        char err[256] = "";
        grok *g = NULL;
        int rc = grok_compile(CASES[i].expr, NULL, &g, err, sizeof err);
        json_t *want = json_loads(CASES[i].want, JSON_DECODE_ANY, NULL);
        if (rc) {
            if (!json_is_null(want) || !strstr(err, "unknown pattern")) {
                print_error("case %zu %s: compile error %s\n", i, CASES[i].expr, err);
                failed++;
            }
            json_decref(want);
            continue;
        }
        json_t *got = json_object();
        int m = grok_match(g, rx, CASES[i].subj, strlen(CASES[i].subj), got, &o);
        bool ok = json_is_null(want) ? m == 0 : (m == 1 && json_equal(got, want));
        if (!ok) {
            char *s = json_dumps(got, JSON_COMPACT);
            print_error("case %zu %s on '%s': m=%d got %s want %s\n", i, CASES[i].expr, CASES[i].subj, m, s, CASES[i].want);
            free(s);
            failed++;
        }
        json_decref(got);
        json_decref(want);
        grok_free(g);
    }
    rx_scratch_free(rx);
    assert_int_equal(failed, 0);
    assert_true(sizeof CASES / sizeof *CASES >= 60);
}

/* Every library pattern compiles on its own (no dangling references, valid PCRE2). */
static void test_library_compiles(void **state)
{
    (void)state;
    for (size_t i = 0; i < grok_builtin_count; i++) {
        char expr[128], err[256] = "";
        snprintf(expr, sizeof expr, "%%{%s:x}", grok_builtin[i].name);
        grok *g = NULL;
        int rc = grok_compile(expr, NULL, &g, err, sizeof err);
        if (rc)
            print_error("%s: %s\n", grok_builtin[i].name, err);
        assert_int_equal(rc, 0);
        grok_free(g);
    }
    assert_true(grok_builtin_count >= 69);
}

static void test_custom_overrides(void **state)
{
    (void)state;
    json_t *custom = json_pack("{s:s}", "WORD", "[a-z]{2}");
    grok *g;
    char err[128];
    assert_int_equal(grok_compile("%{WORD:w}", custom, &g, err, sizeof err), 0);
    assert_non_null(strstr(grok_regex(g), "[a-z]{2}"));
    grok_free(g);
    json_decref(custom);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_library_compiles),
        cmocka_unit_test(test_custom_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
