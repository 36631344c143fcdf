/* grok_patterns: see grok_patterns.h. Regexes are PCRE2 syntax; %{X} / %{X:field} refer to other
 * entries and are expanded by grok.c. Captures inside are only the %{X:field} ones: every plain
 * group here is non-capturing so users' captures keep their meaning. */
#include "grok_patterns.h"

#include <string.h>

#define H "[0-9A-Fa-f]{1,4}"
#define OCTET "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"

const grok_pattern grok_builtin[] = {
    /* ---- base ---- */
    {"USERNAME", "[a-zA-Z0-9._-]+"},
    {"USER", "%{USERNAME}"},
    {"EMAILLOCALPART", "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*"},
    {"EMAILADDRESS", "%{EMAILLOCALPART}@%{HOSTNAME}"},
    {"INT", "(?:[+-]?(?:[0-9]+))"},
    {"BASE10NUM", "(?<![0-9.+-])(?>[+-]?(?:(?:[0-9]+(?:\\.[0-9]+)?)|(?:\\.[0-9]+)))"},
    {"NUMBER", "(?:%{BASE10NUM})"},
    {"BASE16NUM", "(?<![0-9A-Fa-f])(?:[+-]?(?:0x)?(?:[0-9A-Fa-f]+))"},
    {"BASE16FLOAT", "\\b(?<![0-9A-Fa-f.])(?:[+-]?(?:0x)?(?:(?:[0-9A-Fa-f]+(?:\\.[0-9A-Fa-f]*)?)|(?:\\.[0-9A-Fa-f]+)))\\b"},
    {"POSINT", "\\b(?:[1-9][0-9]*)\\b"},
    {"NONNEGINT", "\\b(?:[0-9]+)\\b"},
    {"WORD", "\\b\\w+\\b"},
    {"NOTSPACE", "\\S+"},
    {"SPACE", "\\s*"},
    {"DATA", ".*?"},
    {"GREEDYDATA", ".*"},
    {"QUOTEDSTRING", "(?>(?<!\\\\)(?>\"(?>\\\\.|[^\\\\\"]+)+\"|\"\"|(?>'(?>\\\\.|[^\\\\']+)+')|''|(?>`(?>\\\\.|[^\\\\`]+)+`)|``))"},
    {"QS", "%{QUOTEDSTRING}"},
    {"UUID", "[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}"},
    {"URN", "urn:[0-9A-Za-z][0-9A-Za-z-]{0,31}:(?:%[0-9a-fA-F]{2}|[0-9A-Za-z()+,.:=@;$_!*'/?#-])+"},

    /* ---- network ---- */
    {"CISCOMAC", "(?:(?:[A-Fa-f0-9]{4}\\.){2}[A-Fa-f0-9]{4})"},
    {"WINDOWSMAC", "(?:(?:[A-Fa-f0-9]{2}-){5}[A-Fa-f0-9]{2})"},
    {"COMMONMAC", "(?:(?:[A-Fa-f0-9]{2}:){5}[A-Fa-f0-9]{2})"},
    {"MAC", "(?:%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC})"},
    /* every compressed form; the trailing look-ahead makes the engine try the next alternative
     * instead of stopping inside an address */
    {"IPV6", "(?<![0-9A-Fa-f:])(?:(?:" H ":){7}" H "|(?:" H ":){6}%{IPV4}|(?:" H ":){1,7}:|(?:" H ":){1,6}:" H
             "|(?:" H ":){1,5}(?::" H "){1,2}|(?:" H ":){1,4}(?::" H "){1,3}|(?:" H ":){1,3}(?::" H "){1,4}"
             "|(?:" H ":){1,2}(?::" H "){1,5}|" H ":(?::" H "){1,6}|::(?:[fF]{4}(?::0{1,4})?:)?%{IPV4}"
             "|(?:" H ":){1,4}:%{IPV4}|:(?:(?::" H "){1,7}|:))(?:%[0-9A-Za-z]+)?(?![0-9A-Fa-f:.])"},
    {"IPV4", "(?<![0-9])" OCTET "\\." OCTET "\\." OCTET "\\." OCTET "(?![0-9])"},
    {"IP", "(?:%{IPV6}|%{IPV4})"},
    {"HOSTNAME", "\\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(?:\\.?|\\b)"},
    {"HOST", "%{HOSTNAME}"},
    {"IPORHOST", "(?:%{IP}|%{HOSTNAME})"},
    {"HOSTPORT", "%{IPORHOST}:%{POSINT}"},

    /* ---- paths and URIs ---- */
    {"PATH", "(?:%{UNIXPATH}|%{WINPATH})"},
    {"UNIXPATH", "(?:/[\\w_%!$@:.,+~-]*)+"},
    {"TTY", "(?:/dev/(?:pts|tty(?:[pq])?)(?:\\w+)?/?(?:[0-9]+))"},
    {"WINPATH", "(?>[A-Za-z]+:|\\\\)(?:\\\\[^\\\\?*]*)+"},
    {"URIPROTO", "[A-Za-z](?:[A-Za-z0-9+\\-.]+)+"},
    {"URIHOST", "%{IPORHOST}(?::%{POSINT})?"},
    {"URIPATH", "(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\\-]*)+"},
    {"URIPARAM", "\\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\\-\\[\\]<>]*"},
    {"URIPATHPARAM", "%{URIPATH}(?:%{URIPARAM})?"},
    {"URI", "%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?"},

    /* ---- dates ---- */
    {"MONTH", "\\b(?:[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|[Mm]ar(?:ch)?|[Aa]pr(?:il)?|[Mm]ay|[Jj]un(?:e)?|[Jj]ul(?:y)?"
              "|[Aa]ug(?:ust)?|[Ss]ep(?:t(?:ember)?)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?)\\b"},
    {"MONTHNUM", "(?:0?[1-9]|1[0-2])"},
    {"MONTHNUM2", "(?:0[1-9]|1[0-2])"},
    {"MONTHDAY", "(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])"},
    {"DAY", "(?:[Mm]on(?:day)?|[Tt]ue(?:sday)?|[Ww]ed(?:nesday)?|[Tt]hu(?:rsday)?|[Ff]ri(?:day)?|[Ss]at(?:urday)?|[Ss]un(?:day)?)"},
    {"YEAR", "(?>\\d\\d){1,2}"},
    {"HOUR", "(?:2[0123]|[01]?[0-9])"},
    {"MINUTE", "(?:[0-5][0-9])"},
    {"SECOND", "(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)"},
    {"TIME", "(?<![0-9])%{HOUR}:%{MINUTE}(?::%{SECOND})(?![0-9])"},
    {"DATE_US", "%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}"},
    {"DATE_EU", "%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}"},
    {"ISO8601_TIMEZONE", "(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))"},
    {"ISO8601_SECOND", "%{SECOND}"},
    {"TIMESTAMP_ISO8601", "%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?"},
    {"DATE", "(?:%{DATE_US}|%{DATE_EU})"},
    {"DATESTAMP", "%{DATE}[- ]%{TIME}"},
    {"TZ", "(?:[APMCE][SD]T|UTC|GMT)"},
    {"DATESTAMP_RFC822", "%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ}"},
    {"DATESTAMP_RFC2822", "%{DAY}, %{MONTHDAY} %{MONTH} %{YEAR} %{TIME} %{ISO8601_TIMEZONE}"},
    {"DATESTAMP_OTHER", "%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR}"},
    {"DATESTAMP_EVENTLOG", "%{YEAR}%{MONTHNUM2}%{MONTHDAY}%{HOUR}%{MINUTE}%{SECOND}"},
    {"HTTPDATE", "%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}"},

    /* ---- syslog ---- */
    {"SYSLOGTIMESTAMP", "%{MONTH} +%{MONTHDAY} %{TIME}"},
    {"PROG", "[\\x21-\\x5a\\x5c\\x5e-\\x7e]+"},
    {"SYSLOGPROG", "%{PROG:program}(?:\\[%{POSINT:pid}\\])?"},
    {"SYSLOGHOST", "%{IPORHOST}"},
    {"SYSLOGFACILITY", "<%{NONNEGINT:facility}.%{NONNEGINT:priority}>"},
    {"SYSLOGBASE", "%{SYSLOGTIMESTAMP:timestamp} (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource} %{SYSLOGPROG}:"},
    {"SYSLOGLINE", "(?:%{SYSLOGTIMESTAMP:timestamp}|%{TIMESTAMP_ISO8601:timestamp8601}) (?:%{SYSLOGFACILITY} )?"
                   "%{SYSLOGHOST:logsource}(?: %{SYSLOGPROG}:|) %{GREEDYDATA:message}"},
    {"SYSLOG5424PRINTASCII", "[!-~]+"},
    {"SYSLOG5424PRI", "<%{NONNEGINT:syslog5424_pri}>"},
    {"SYSLOG5424SD", "\\[%{DATA}\\]+"},
    {"SYSLOG5424BASE", "%{SYSLOG5424PRI}%{NONNEGINT:syslog5424_ver} +(?:%{TIMESTAMP_ISO8601:syslog5424_ts}|-) +"
                       "(?:%{IPORHOST:syslog5424_host}|-) +(?:-|%{SYSLOG5424PRINTASCII:syslog5424_app}) +"
                       "(?:-|%{SYSLOG5424PRINTASCII:syslog5424_proc}) +(?:-|%{SYSLOG5424PRINTASCII:syslog5424_msgid}) +"
                       "(?:%{SYSLOG5424SD:syslog5424_sd}|-|)"},
    {"SYSLOG5424LINE", "%{SYSLOG5424BASE} +%{GREEDYDATA:syslog5424_msg}"},
    {"LOGLEVEL", "(?:[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo(?:rmation)?|INFO(?:RMATION)?"
                 "|[Ww]arn(?:ing)?|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL"
                 "|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?)"},

    /* ---- HTTP: Apache, nginx ---- */
    {"HTTPMETHOD", "\\b(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND|MKCOL|COPY|MOVE|LOCK|UNLOCK)\\b"},
    {"HTTPVERSION", "HTTP/%{NUMBER:http_version}"},
    {"HTTPDUSER", "(?:%{EMAILADDRESS}|%{USER})"},
    {"COMMONAPACHELOG", "%{IPORHOST:client} %{HTTPDUSER:ident} %{HTTPDUSER:auth} \\[%{HTTPDATE:timestamp}\\] "
                        "\"(?:%{WORD:method} %{NOTSPACE:request}(?: HTTP/%{NUMBER:http_version})?|%{DATA:rawrequest})\" "
                        "%{NUMBER:status} (?:%{NUMBER:bytes}|-)"},
    {"COMBINEDAPACHELOG", "%{COMMONAPACHELOG} %{QS:referrer} %{QS:agent}"},
    {"HTTPD_COMMONLOG", "%{COMMONAPACHELOG}"},
    {"HTTPD_COMBINEDLOG", "%{COMBINEDAPACHELOG}"},
    {"HTTPDERROR_DATE", "%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{YEAR}"},
    {"HTTPD20_ERRORLOG", "\\[%{HTTPDERROR_DATE:timestamp}\\] \\[%{LOGLEVEL:loglevel}\\] (?:\\[client %{IPORHOST:clientip}\\] )?%{GREEDYDATA:message}"},
    {"HTTPD24_ERRORLOG", "\\[%{HTTPDERROR_DATE:timestamp}\\] \\[(?:%{WORD:module})?:%{LOGLEVEL:loglevel}\\] "
                         "\\[pid %{POSINT:pid}(?::tid %{NUMBER:tid})?\\](?: \\(%{POSINT:proxy_errorcode}\\)%{DATA:proxy_message}:)?"
                         "(?: \\[client %{IPORHOST:clientip}:%{POSINT:clientport}\\])?(?: %{DATA:errorcode}:)? %{GREEDYDATA:message}"},
    {"HTTPD_ERRORLOG", "(?:%{HTTPD20_ERRORLOG}|%{HTTPD24_ERRORLOG})"},
    {"NGINXACCESS", "%{COMBINEDAPACHELOG}(?: \"%{DATA:x_forwarded_for}\")?"},
    {"NGINXERROR", "%{YEAR}/%{MONTHNUM}/%{MONTHDAY} %{TIME} \\[%{LOGLEVEL:loglevel}\\] %{POSINT:pid}#%{NUMBER:tid}: "
                   "(?:\\*%{NUMBER:connection_id} )?%{GREEDYDATA:message}"},

    /* ---- firewalls ---- */
    {"CISCOTIMESTAMP", "%{MONTH} +%{MONTHDAY}(?: %{YEAR})? %{TIME}"},
    {"CISCOTAG", "[A-Z0-9]+-%{INT}-(?:[A-Z0-9_]+)"},
    {"CISCO_TAGGED_SYSLOG", "^<%{POSINT:syslog_pri}>%{CISCOTIMESTAMP:timestamp}(?: %{SYSLOGHOST:sysloghost})? ?: %%{CISCOTAG:ciscotag}:"},
    {"CISCO_ACTION", "(?:Built|Teardown|Deny|Denied|denied|requested|permitted|denied by ACL|discarded|est-allowed|Dropping|created|deleted)"},
    {"CISCO_DIRECTION", "(?:Inbound|inbound|Outbound|outbound)"},
    {"CISCO_REASON", "(?:Duplicate TCP SYN|Failed to locate egress interface|Invalid transport field|No matching connection|DNS Response|DNS Query|(?:%{WORD}\\s*)*)"},
    {"CISCOFW106001", "%{CISCO_DIRECTION:direction} %{WORD:protocol} connection %{CISCO_ACTION:action} from %{IP:src_ip}/%{INT:src_port} "
                      "to %{IP:dst_ip}/%{INT:dst_port} flags %{GREEDYDATA:tcp_flags} on interface %{GREEDYDATA:interface}"},
    {"CISCOFW106023", "%{CISCO_ACTION:action}(?: protocol)? %{WORD:protocol} src %{DATA:src_interface}:%{IP:src_ip}(?:/%{INT:src_port})? "
                      "dst %{DATA:dst_interface}:%{IP:dst_ip}(?:/%{INT:dst_port})?(?: \\(type %{INT:icmp_type}, code %{INT:icmp_code}\\))? "
                      "by access-group \"?%{DATA:policy_id}\"? \\[%{DATA:hashcode1}, %{DATA:hashcode2}\\]"},
    {"CISCOFW302013_302014_302015_302016", "%{CISCO_ACTION:action}(?: %{CISCO_DIRECTION:direction})? %{WORD:protocol} connection "
                      "%{INT:connection_id} for %{DATA:src_interface}:%{IP:src_ip}/%{INT:src_port}(?: \\(%{IP:src_xlated_ip}/%{INT:src_xlated_port}\\))? "
                      "to %{DATA:dst_interface}:%{IP:dst_ip}/%{INT:dst_port}(?: \\(%{IP:dst_xlated_ip}/%{INT:dst_xlated_port}\\))?"
                      "(?: duration %{TIME:duration} bytes %{INT:bytes})?(?: %{CISCO_REASON:reason})?"},
    {"IPTABLES", "(?:IN=%{DATA:in_interface}) (?:OUT=%{DATA:out_interface}) (?:MAC=%{DATA:mac} )?SRC=%{IP:src_ip} DST=%{IP:dst_ip} "
                 "LEN=%{INT:length}.*? PROTO=%{WORD:protocol}(?: SPT=%{INT:src_port} DPT=%{INT:dst_port})?"},

    /* ---- original piper names ---- */
    {"BYTEFREEZER_TIMESTAMP", "%{TIMESTAMP_ISO8601}"},
    {"BYTEFREEZER_UUID", "%{UUID}"},
    {"BYTEFREEZER_LOGLEVEL", "%{LOGLEVEL}"},
};

const size_t grok_builtin_count = sizeof grok_builtin / sizeof *grok_builtin;

const char *grok_builtin_find(const char *name)
{
    for (size_t i = 0; i < grok_builtin_count; i++)
        if (!strcmp(grok_builtin[i].name, name))
            return grok_builtin[i].regex;
    return NULL;
}
