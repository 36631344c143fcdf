/* Table-driven corpus test of bf_syslog_parse: every line's whole output object is compared with the
 * expected one (so omitted fields are asserted too), and the key order is checked against the header. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bf_syslog.h"

#define RECV_MS 1770314400000LL /* 2026-02-05T18:00:00Z */

typedef struct {
    const char *name;
    const char *in;
    size_t len;          /* 0: strlen(in) */
    int64_t recv_ms;     /* 0: RECV_MS */
    const char *expect;  /* JSON without BfTs/timestamp/source_ip; ` stands for " */
} corpus_case;

#define C(name, in, expect) {name, in, 0, 0, expect}

static const corpus_case corpus[] = {
    /* RFC 5424 §6.5, all four examples */
    C("5424 ex1 BOM", "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
      "{`rfc`:`5424`,`priority`:34,`facility`:4,`severity`:2,`syslog_timestamp`:`2003-10-11T22:14:15.003Z`,"
      "`hostname`:`mymachine.example.com`,`app_name`:`su`,`msg_id`:`ID47`,`message`:`'su root' failed for lonvick on /dev/pts/8`}"),
    C("5424 ex2 offset", "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
      "{`rfc`:`5424`,`priority`:165,`facility`:20,`severity`:5,`syslog_timestamp`:`2003-08-24T05:14:15.000003-07:00`,"
      "`hostname`:`192.0.2.1`,`app_name`:`myproc`,`proc_id`:`8710`,`message`:`%% It's time to make the do-nuts.`}"),
    C("5424 ex3 SD+BOM", "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBF" "An application event log entry...",
      "{`rfc`:`5424`,`priority`:165,`facility`:20,`severity`:5,`syslog_timestamp`:`2003-10-11T22:14:15.003Z`,"
      "`hostname`:`mymachine.example.com`,`app_name`:`evntslog`,`msg_id`:`ID47`,"
      "`structured_data`:{`exampleSDID@32473`:{`iut`:`3`,`eventSource`:`Application`,`eventID`:`1011`}},"
      "`message`:`An application event log entry...`}"),
    C("5424 ex4 two SD no msg", "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
      "{`rfc`:`5424`,`priority`:165,`facility`:20,`severity`:5,`syslog_timestamp`:`2003-10-11T22:14:15.003Z`,"
      "`hostname`:`mymachine.example.com`,`app_name`:`evntslog`,`msg_id`:`ID47`,"
      "`structured_data`:{`exampleSDID@32473`:{`iut`:`3`,`eventSource`:`Application`,`eventID`:`1011`},`examplePriority@32473`:{`class`:`high`}}}"),
    C("5424 SD escapes", "<13>1 2026-02-05T17:32:18Z h a - - [x@1 q=\"say \\\"hi\\\"\" b=\"back\\\\slash\" r=\"br\\]acket\" o=\"lit\\n\"] m",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`h`,`app_name`:`a`,"
      "`structured_data`:{`x@1`:{`q`:`say \\`hi\\``,`b`:`back\\\\slash`,`r`:`br]acket`,`o`:`lit\\\\n`}},`message`:`m`}"),
    C("5424 repeated SD-ID merged", "<13>1 - h a - - [a@1 x=\"1\"][b@1 y=\"2\"][a@1 z=\"3\"] m",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`hostname`:`h`,`app_name`:`a`,"
      "`structured_data`:{`a@1`:{`x`:`1`,`z`:`3`},`b@1`:{`y`:`2`}},`message`:`m`}"),
    C("5424 normalised ts", "<13>1 2026-02-05t17:32:18.5+0100 h a p m - msg",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18.5+01:00`,"
      "`hostname`:`h`,`app_name`:`a`,`proc_id`:`p`,`msg_id`:`m`,`message`:`msg`}"),
    C("5424 bad ts kept as sent", "<13>1 2026-13-45T99:00:00Z h a - - - msg",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-13-45T99:00:00Z`,"
      "`hostname`:`h`,`app_name`:`a`,`message`:`msg`}"),
    C("5424 all nil", "<14>1 - - - - - -", "{`rfc`:`5424`,`priority`:14,`facility`:1,`severity`:6}"),
    C("5424 missing SD", "<13>1 2026-02-05T17:32:18Z host app - - hello world",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,"
      "`hostname`:`host`,`app_name`:`app`,`message`:`hello world`}"),
    C("5424 malformed SD kept in message", "<13>1 - host app - - [bad x",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`hostname`:`host`,`app_name`:`app`,`message`:`[bad x`}"),
    C("5424 invalid utf8", "<13>1 - h a - - - caf\xC3\xA9 \xC3\x28 \xED\xA0\x80",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`hostname`:`h`,`app_name`:`a`,"
      "`message`:`caf\xC3\xA9 \xEF\xBF\xBD( \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD`}"),
    /* util-linux logger */
    C("logger --rfc5424 sd", "<13>1 2026-11-27T10:49:42.011614+00:00 vm app - - [timeQuality tzKnown=\"1\" isSynced=\"0\"][origin@32473 ip=\"127.0.0.1\"] hello 5424",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-11-27T10:49:42.011614+00:00`,"
      "`hostname`:`vm`,`app_name`:`app`,`structured_data`:{`timeQuality`:{`tzKnown`:`1`,`isSynced`:`0`},"
      "`origin@32473`:{`ip`:`127.0.0.1`}},`message`:`hello 5424`}"),
    C("logger --rfc5424 pid msgid", "<13>1 2026-11-27T10:49:42.016043+00:00 vm app 13162 MID [timeQuality tzKnown=\"1\" isSynced=\"0\"] with pid",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-11-27T10:49:42.016043+00:00`,"
      "`hostname`:`vm`,`app_name`:`app`,`proc_id`:`13162`,`msg_id`:`MID`,`structured_data`:{`timeQuality`:{`tzKnown`:`1`,`isSynced`:`0`}},"
      "`message`:`with pid`}"),
    C("logger --rfc3164 year before", "<156>Nov 27 10:49:42 vm app: hello 3164",
      "{`rfc`:`3164`,`priority`:156,`facility`:19,`severity`:4,`syslog_timestamp`:`2025-11-27T10:49:42Z`,"
      "`hostname`:`vm`,`app_name`:`app`,`message`:`hello 3164`}"),
    C("logger --rfc3164 -i", "<13>Nov 27 10:49:42 vm app[13161]: with pid",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2025-11-27T10:49:42Z`,"
      "`hostname`:`vm`,`app_name`:`app`,`proc_id`:`13161`,`message`:`with pid`}"),
    /* rsyslog templates */
    C("rsyslog ForwardFormat", "<30>2026-02-05T17:32:18.123456+01:00 web01 nginx[812]: GET / 200",
      "{`rfc`:`3164`,`priority`:30,`facility`:3,`severity`:6,`syslog_timestamp`:`2026-02-05T17:32:18.123456+01:00`,"
      "`hostname`:`web01`,`app_name`:`nginx`,`proc_id`:`812`,`message`:`GET / 200`}"),
    C("rsyslog SyslogProtocol23Format", "<13>1 2026-02-05T17:32:18.412345+00:00 vm fwdtest - - -  forward me\n",
      "{`rfc`:`5424`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18.412345+00:00`,"
      "`hostname`:`vm`,`app_name`:`fwdtest`,`message`:` forward me`}"),
    C("rsyslog Protocol23 with SD", "<86>1 2026-02-05T17:32:18.412345+00:00 vm sshd 1234 - [meta sequenceId=\"7\"] Accepted",
      "{`rfc`:`5424`,`priority`:86,`facility`:10,`severity`:6,`syslog_timestamp`:`2026-02-05T17:32:18.412345+00:00`,"
      "`hostname`:`vm`,`app_name`:`sshd`,`proc_id`:`1234`,`structured_data`:{`meta`:{`sequenceId`:`7`}},`message`:`Accepted`}"),
    /* captured from rsyslog 8.2302 (omfwd, logger → imudp), verbatim */
    C("rsyslog ForwardFormat real 3164", "<38>2026-11-27T11:27:43+00:00 vm sshd[29664]: Accepted publickey for root from 10.0.0.5 port 51234 ssh2",
      "{`rfc`:`3164`,`priority`:38,`facility`:4,`severity`:6,`syslog_timestamp`:`2026-11-27T11:27:43+00:00`,`hostname`:`vm`,"
      "`app_name`:`sshd`,`proc_id`:`29664`,`message`:`Accepted publickey for root from 10.0.0.5 port 51234 ssh2`}"),
    C("rsyslog ForwardFormat real from 5424 (tag without colon stays text)", "<156>2026-11-27T11:27:43.591011+00:00 vm app hello via rsyslog",
      "{`rfc`:`3164`,`priority`:156,`facility`:19,`severity`:4,`syslog_timestamp`:`2026-11-27T11:27:43.591011+00:00`,"
      "`hostname`:`vm`,`message`:`app hello via rsyslog`}"),
    C("rsyslog Protocol23 real from 3164", "<38>1 2026-11-27T11:27:43+00:00 vm sshd 29664 - -  Accepted publickey for root from 10.0.0.5 port 51234 ssh2\n",
      "{`rfc`:`5424`,`priority`:38,`facility`:4,`severity`:6,`syslog_timestamp`:`2026-11-27T11:27:43+00:00`,`hostname`:`vm`,"
      "`app_name`:`sshd`,`proc_id`:`29664`,`message`:` Accepted publickey for root from 10.0.0.5 port 51234 ssh2`}"),
    C("rsyslog Protocol23 real from 5424", "<156>1 2026-11-27T11:27:43.591011+00:00 vm app - MID [timeQuality tzKnown=\"1\" isSynced=\"0\"][origin@32473 ip=\"127.0.0.1\"] hello via rsyslog\n",
      "{`rfc`:`5424`,`priority`:156,`facility`:19,`severity`:4,`syslog_timestamp`:`2026-11-27T11:27:43.591011+00:00`,"
      "`hostname`:`vm`,`app_name`:`app`,`msg_id`:`MID`,`structured_data`:{`timeQuality`:{`tzKnown`:`1`,`isSynced`:`0`},"
      "`origin@32473`:{`ip`:`127.0.0.1`}},`message`:`hello via rsyslog`}"),
    /* RFC 3164 variants */
    C("3164 RFC example", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
      "{`rfc`:`3164`,`priority`:34,`facility`:4,`severity`:2,`syslog_timestamp`:`2025-10-11T22:14:15Z`,"
      "`hostname`:`mymachine`,`app_name`:`su`,`message`:`'su root' failed for lonvick on /dev/pts/8`}"),
    C("3164 no hostname pid", "<13>Feb  5 17:32:18 app[12]: msg",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,"
      "`app_name`:`app`,`proc_id`:`12`,`message`:`msg`}"),
    C("3164 no hostname", "<13>Feb  5 17:32:18 app: msg",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`app_name`:`app`,`message`:`msg`}"),
    C("3164 no tag", "<13>Feb  5 17:32:18 host msg without tag",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`message`:`msg without tag`}"),
    C("3164 year in ts", "<13>Feb  5 2024 17:32:18 host app: msg",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2024-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`app`,`message`:`msg`}"),
    C("3164 single-digit day", "<13>Feb 5 17:32:18 host app: msg",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`app`,`message`:`msg`}"),
    C("3164 ip hostname", "<13>Feb  5 17:32:18 10.0.0.1 app: msg",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`10.0.0.1`,"
      "`app_name`:`app`,`message`:`msg`}"),
    C("3164 ipv6 hostname", "<13>Feb  5 17:32:18 2001:db8::1 app: msg",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`2001:db8::1`,"
      "`app_name`:`app`,`message`:`msg`}"),
    C("3164 url is not a tag", "<13>Feb  5 17:32:18 host http://x y",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`message`:`http://x y`}"),
    C("3164 no PRI (rsyslog default 13)", "Feb  5 17:32:18 host app: msg",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`app`,`message`:`msg`}"),
    C("3164 PRI without header", "<13>hello world", "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`message`:`hello world`}"),
    C("3164 pri 0", "<0>Feb  5 17:32:18 host kernel: panic",
      "{`rfc`:`3164`,`priority`:0,`facility`:0,`severity`:0,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`kernel`,`message`:`panic`}"),
    C("3164 control chars", "<13>Feb  5 17:32:18 host app: a\tb\x01" "c",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`app`,`message`:`a\\tb\\u0001c`}"),
    /* Cisco */
    C("Cisco IOS seq + star", "<189>123: *Mar  1 00:00:00.123: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.1)",
      "{`rfc`:`3164`,`priority`:189,`facility`:23,`severity`:5,`syslog_timestamp`:`2026-03-01T00:00:00.123Z`,"
      "`app_name`:`SYS-5-CONFIG_I`,`message`:`Configured from console by vty0 (10.0.0.1)`}"),
    C("Cisco IOS zone", "<187>2518: Feb  5 17:32:18.456 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
      "{`rfc`:`3164`,`priority`:187,`facility`:23,`severity`:3,`syslog_timestamp`:`2026-02-05T17:32:18.456Z`,"
      "`app_name`:`LINK-3-UPDOWN`,`message`:`Interface GigabitEthernet0/1, changed state to down`}"),
    C("Cisco ASA", "<166>Feb 05 2026 17:32:18: %ASA-6-302013: Built outbound TCP connection 123 for outside:10.0.0.1/443 (10.0.0.1/443) to inside:192.168.1.5/51234 (203.0.113.5/51234)",
      "{`rfc`:`3164`,`priority`:166,`facility`:20,`severity`:6,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`app_name`:`ASA-6-302013`,"
      "`message`:`Built outbound TCP connection 123 for outside:10.0.0.1/443 (10.0.0.1/443) to inside:192.168.1.5/51234 (203.0.113.5/51234)`}"),
    C("Cisco ASA hostname", "<164>Feb 05 2026 17:32:18 fw01 : %ASA-4-106023: Deny tcp src outside:1.2.3.4/5 dst inside:10.0.0.1/22 by access-group \"outside_in\"",
      "{`rfc`:`3164`,`priority`:164,`facility`:20,`severity`:4,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`fw01`,"
      "`app_name`:`ASA-4-106023`,`message`:`Deny tcp src outside:1.2.3.4/5 dst inside:10.0.0.1/22 by access-group \\`outside_in\\``}"),
    C("Cisco origin hostname", "<189>46: R1: *Mar  1 00:09:46.431: %SYS-5-CONFIG_I: Configured from console",
      "{`rfc`:`3164`,`priority`:189,`facility`:23,`severity`:5,`syslog_timestamp`:`2026-03-01T00:09:46.431Z`,"
      "`hostname`:`R1`,`app_name`:`SYS-5-CONFIG_I`,`message`:`Configured from console`}"),
    C("Cisco relayed", "<189>Feb  5 17:32:18 10.1.1.1 2201: *Feb  5 17:32:17.999: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/1, changed state to up",
      "{`rfc`:`3164`,`priority`:189,`facility`:23,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,"
      "`hostname`:`10.1.1.1`,`app_name`:`LINEPROTO-5-UPDOWN`,`message`:`Line protocol on Interface Gi0/1, changed state to up`}"),
    C("number after hostname is text", "<13>Feb  5 17:32:18 host 404: not found",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`404`,`message`:`not found`}"),
    C("tag[pid]: without space", "<13>Feb  5 17:32:18 host app[12]:msg",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`app`,`proc_id`:`12`,`message`:`msg`}"),
    /* Juniper */
    C("Juniper 3164", "<28>Feb  5 17:32:18 mx480-re0 mib2d[1234]: SNMP_TRAP_LINK_DOWN: ifIndex 526, ifName ge-0/0/1",
      "{`rfc`:`3164`,`priority`:28,`facility`:3,`severity`:4,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`mx480-re0`,"
      "`app_name`:`mib2d`,`proc_id`:`1234`,`message`:`SNMP_TRAP_LINK_DOWN: ifIndex 526, ifName ge-0/0/1`}"),
    C("Juniper 5424 structured", "<165>1 2026-02-05T17:32:18.123+01:00 srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.36 source-address=\"10.0.0.1\" source-port=\"51234\" destination-address=\"8.8.8.8\" destination-port=\"53\"] session created",
      "{`rfc`:`5424`,`priority`:165,`facility`:20,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18.123+01:00`,`hostname`:`srx1`,"
      "`app_name`:`RT_FLOW`,`msg_id`:`RT_FLOW_SESSION_CREATE`,`structured_data`:{`junos@2636.1.1.1.2.36`:{`source-address`:`10.0.0.1`,"
      "`source-port`:`51234`,`destination-address`:`8.8.8.8`,`destination-port`:`53`}},`message`:`session created`}"),
    /* Linux */
    C("kernel", "<6>Feb  5 17:32:18 host kernel: [ 1234.567890] eth0: Link is Up - 1Gbps/Full",
      "{`rfc`:`3164`,`priority`:6,`facility`:0,`severity`:6,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`kernel`,`message`:`[ 1234.567890] eth0: Link is Up - 1Gbps/Full`}"),
    C("sshd", "<38>Feb  5 17:32:18 host sshd[1234]: Accepted publickey for root from 10.0.0.5 port 51234 ssh2: ED25519 SHA256:abc",
      "{`rfc`:`3164`,`priority`:38,`facility`:4,`severity`:6,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`sshd`,`proc_id`:`1234`,`message`:`Accepted publickey for root from 10.0.0.5 port 51234 ssh2: ED25519 SHA256:abc`}"),
    C("cron", "<78>Feb  5 17:32:01 host CRON[5678]: (root) CMD (run-parts /etc/cron.hourly)",
      "{`rfc`:`3164`,`priority`:78,`facility`:9,`severity`:6,`syslog_timestamp`:`2026-02-05T17:32:01Z`,`hostname`:`host`,"
      "`app_name`:`CRON`,`proc_id`:`5678`,`message`:`(root) CMD (run-parts /etc/cron.hourly)`}"),
    C("cron no hostname uppercase tag", "<78>Feb  5 17:32:01 CRON: job",
      "{`rfc`:`3164`,`priority`:78,`facility`:9,`severity`:6,`syslog_timestamp`:`2026-02-05T17:32:01Z`,`app_name`:`CRON`,`message`:`job`}"),
    C("postfix tag with slash", "<22>Feb  5 17:32:18 mail postfix/smtpd[999]: connect from unknown[1.2.3.4]",
      "{`rfc`:`3164`,`priority`:22,`facility`:2,`severity`:6,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`mail`,"
      "`app_name`:`postfix/smtpd`,`proc_id`:`999`,`message`:`connect from unknown[1.2.3.4]`}"),
    C("trailing CRLF trimmed", "<13>Feb  5 17:32:18 host app: msg\r\n",
      "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2026-02-05T17:32:18Z`,`hostname`:`host`,"
      "`app_name`:`app`,`message`:`msg`}"),
    /* Fortinet key=value */
    C("Fortinet kv with PRI", "<189>date=2026-02-05 time=17:32:18 devname=\"FG100E\" logid=\"0000000013\" type=\"traffic\" srcip=10.0.0.1 dstip=8.8.8.8",
      "{`rfc`:`3164`,`priority`:189,`facility`:23,`severity`:5,"
      "`message`:`date=2026-02-05 time=17:32:18 devname=\\`FG100E\\` logid=\\`0000000013\\` type=\\`traffic\\` srcip=10.0.0.1 dstip=8.8.8.8`}"),
    C("Fortinet kv without PRI → raw", "date=2026-02-05 time=17:32:18 devname=\"FG100E\"",
      "{`rfc`:`raw`,`message`:`date=2026-02-05 time=17:32:18 devname=\\`FG100E\\``}"),
    /* malformed */
    C("empty", "", "{`rfc`:`raw`}"),
    C("lone <", "<", "{`rfc`:`raw`,`message`:`<`}"),
    C("<999>", "<999>", "{`rfc`:`raw`,`message`:`<999>`}"),
    C("<192> out of range", "<192>Feb  5 17:32:18 host app: msg", "{`rfc`:`raw`,`message`:`<192>Feb  5 17:32:18 host app: msg`}"),
    C("<13 unterminated", "<13", "{`rfc`:`raw`,`message`:`<13`}"),
    C("only PRI", "<13>", "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5}"),
    C("plain text", "hello world", "{`rfc`:`raw`,`message`:`hello world`}"),
    {"binary garbage", "\x00\xff\xfe<\x01>\x80" "abc", 10, 0, "{`rfc`:`raw`,`message`:`\\u0000\xEF\xBF\xBD\xEF\xBF\xBD<\\u0001>\xEF\xBF\xBD" "abc`}"},
    /* year inference */
    {"3164 Dec 31 received Jan 1", "<13>Dec 31 23:59:50 host app: late", 0, 1767225630000LL,
     "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2025-12-31T23:59:50Z`,`hostname`:`host`,"
     "`app_name`:`app`,`message`:`late`}"},
    {"3164 Feb 29 picks the leap year", "<13>Feb 29 12:00:00 host app: leap", 0, 1740830400000LL,
     "{`rfc`:`3164`,`priority`:13,`facility`:1,`severity`:5,`syslog_timestamp`:`2024-02-29T12:00:00Z`,`hostname`:`host`,"
     "`app_name`:`app`,`message`:`leap`}"},
};

static const char *const key_order[] = {"BfTs", "timestamp", "source_ip", "rfc", "priority", "facility", "severity",
                                        "syslog_timestamp", "hostname", "app_name", "proc_id", "msg_id",
                                        "structured_data", "message"};

static int key_rank(const char *k)
{
    for (size_t i = 0; i < sizeof key_order / sizeof key_order[0]; i++)
        if (!strcmp(k, key_order[i]))
            return (int)i;
    return -1;
}

static json_t *parse_expect(const char *e)
{
    char *s = strdup(e);
    assert_non_null(s);
    for (char *p = s; *p; p++)
        if (*p == '`')
            *p = '"';
    json_error_t err;
    json_t *j = json_loads(s, JSON_ALLOW_NUL, &err);
    if (!j)
        fail_msg("bad expectation %s: %s", s, err.text);
    free(s);
    return j;
}

static void check_case(const corpus_case *c, const char *source_ip)
{
    bf_buf out;
    bf_buf_init(&out, 0);
    size_t len = c->len ? c->len : strlen(c->in);
    int64_t recv = c->recv_ms ? c->recv_ms : RECV_MS;
    assert_int_equal(bf_syslog_parse(c->in, len, recv, source_ip, &out), 0);
    json_error_t err;
    json_t *got = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &err);
    if (!got)
        fail_msg("%s: output is not JSON (%s): %s", c->name, err.text, out.data);
    /* key order as in the header */
    const char *k;
    json_t *v;
    int last = -1;
    json_object_foreach(got, k, v) {
        int r = key_rank(k);
        if (r <= last)
            fail_msg("%s: key %s out of order in %s", c->name, k, out.data);
        last = r;
    }
    assert_int_equal(json_integer_value(json_object_get(got, "BfTs")), recv);
    assert_non_null(json_object_get(got, "timestamp"));
    if (source_ip)
        assert_string_equal(json_string_value(json_object_get(got, "source_ip")), source_ip);
    json_object_del(got, "BfTs");
    json_object_del(got, "timestamp");
    json_object_del(got, "source_ip");
    json_t *want = parse_expect(c->expect);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_PRESERVE_ORDER), *w = json_dumps(want, JSON_PRESERVE_ORDER);
        fail_msg("%s:\n got  %s\n want %s", c->name, g, w);
    }
    json_decref(got);
    json_decref(want);
    bf_buf_free(&out);
}

static void test_corpus(void **st)
{
    (void)st;
    assert_true(sizeof corpus / sizeof corpus[0] >= 40);
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++)
        check_case(&corpus[i], i % 2 ? "192.0.2.7" : NULL);
}

static void test_recv_timestamp(void **st)
{
    (void)st;
    bf_buf out;
    bf_buf_init(&out, 0);
    assert_int_equal(bf_syslog_parse("x", 1, 1770314400123LL, "10.1.2.3", &out), 0);
    assert_string_equal(out.data, "{\"BfTs\":1770314400123,\"timestamp\":\"2026-02-05T18:00:00.123Z\","
                                  "\"source_ip\":\"10.1.2.3\",\"rfc\":\"raw\",\"message\":\"x\"}");
    bf_buf_free(&out);
}

static void test_64k_line(void **st)
{
    (void)st;
    size_t n = 65536;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'A', n);
    bf_buf out;
    bf_buf_init(&out, 0);
    assert_int_equal(bf_syslog_parse(big, n, RECV_MS, NULL, &out), 0);
    json_t *j = json_loadb(out.data, out.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "rfc")), "raw");
    assert_int_equal(json_string_length(json_object_get(j, "message")), n);
    json_decref(j);
    /* and as a 3164 message body */
    memcpy(big, "<13>Feb  5 17:32:18 host app: ", 30);
    bf_buf_reset(&out);
    assert_int_equal(bf_syslog_parse(big, n, RECV_MS, NULL, &out), 0);
    j = json_loadb(out.data, out.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "app_name")), "app");
    assert_int_equal(json_string_length(json_object_get(j, "message")), n - 30);
    json_decref(j);
    free(big);
    bf_buf_free(&out);
}

/* A capped buffer: the call fails with -E2BIG and leaves what was already in out untouched. */
static void test_cap_rollback(void **st)
{
    (void)st;
    bf_buf out;
    bf_buf_init(&out, 100);
    assert_int_equal(bf_buf_puts(&out, "keep"), 0);
    const char *m = "<13>Feb  5 17:32:18 host app: a message long enough to pass the cap of the buffer";
    assert_int_equal(bf_syslog_parse(m, strlen(m), RECV_MS, NULL, &out), -E2BIG);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "keep");
    bf_buf_free(&out);
}

/* A cap only a few bytes above the real output size is enough: space is not over-reserved for escapes. */
static void test_cap_tight(void **st)
{
    (void)st;
    const char *m = "<165>1 2003-10-11T22:14:15.003Z host app - - [a@1 x=\"q\\\"uote\"] tabs\there \xC3\xA9 \xFF end";
    bf_buf out;
    bf_buf_init(&out, 0);
    assert_int_equal(bf_syslog_parse(m, strlen(m), RECV_MS, "10.0.0.1", &out), 0);
    size_t need = out.len;
    bf_buf_free(&out);
    bf_buf_init(&out, need + 16);
    assert_int_equal(bf_syslog_parse(m, strlen(m), RECV_MS, "10.0.0.1", &out), 0);
    assert_int_equal(out.len, need);
    bf_buf_free(&out);
    bf_buf_init(&out, need - 1);
    assert_int_equal(bf_syslog_parse(m, strlen(m), RECV_MS, "10.0.0.1", &out), -E2BIG);
    assert_int_equal(out.len, 0);
    bf_buf_free(&out);
}

/* Appends: two calls leave two objects side by side (the caller adds separators). */
static void test_appends(void **st)
{
    (void)st;
    bf_buf out;
    bf_buf_init(&out, 0);
    assert_int_equal(bf_syslog_parse("a", 1, 0, NULL, &out), 0);
    size_t first = out.len;
    assert_int_equal(bf_syslog_parse("b", 1, 0, NULL, &out), 0);
    assert_string_equal(out.data + first, "{\"BfTs\":0,\"timestamp\":\"1970-01-01T00:00:00.000Z\",\"rfc\":\"raw\",\"message\":\"b\"}");
    bf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_recv_timestamp),
        cmocka_unit_test(test_64k_line),
        cmocka_unit_test(test_cap_rollback),
        cmocka_unit_test(test_cap_tight),
        cmocka_unit_test(test_appends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
