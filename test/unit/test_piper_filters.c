/* Table-driven tests for every piper filter and option (reference/original-piper.md §4.3), including
 * the original's bugs that we fix (gt/lt, unless-only drop, split, enabled default, condition). */
#include <errno.h>
#include <time.h>
#include "piper_test_util.h"
#include "../../piper/dns_cache.h"

typedef struct fcase { const char *name, *pipe, *in, *out; } fcase;

static const fcase CASES[] = {
    /* add_field */
    {"add_field", "[{\"type\":\"add_field\",\"config\":{\"field\":\"env\",\"value\":\"prod\"}}]", "{\"a\":1}", "[{\"a\":1,\"env\":\"prod\"}]"},
    {"add_field nested", "[{\"type\":\"add_field\",\"config\":{\"field\":\"meta.env\",\"value\":\"prod\"}}]", "{}", "[{\"meta\":{\"env\":\"prod\"}}]"},
    {"add_field brackets", "[{\"type\":\"add_field\",\"config\":{\"field\":\"[meta][env]\",\"value\":\"x\"}}]", "{\"meta\":{\"a\":1}}", "[{\"meta\":{\"a\":1,\"env\":\"x\"}}]"},
    {"add_field typed value", "[{\"type\":\"add_field\",\"config\":{\"field\":\"n\",\"value\":5}}]", "{}", "[{\"n\":5}]"},
    {"add_field templates", "[{\"type\":\"add_field\",\"config\":{\"field\":\"t\",\"value\":\"${tenant_id}/${dataset_id}/${line_number}/%{host}/${timestamp}\"}}]",
     "{\"host\":\"h1\"}", "[{\"host\":\"h1\",\"t\":\"acme/fw/7/h1/2025-11-27T10:00:00Z\"}]"},
    {"enabled defaults to true", "[{\"type\":\"add_field\",\"config\":{\"field\":\"x\",\"value\":\"1\"}}]", "{}", "[{\"x\":\"1\"}]"},
    {"enabled false skipped", "[{\"type\":\"add_field\",\"enabled\":false,\"config\":{\"field\":\"x\",\"value\":\"1\"}}]", "{}", "[{}]"},
    {"inline options", "[{\"type\":\"add_field\",\"field\":\"x\",\"value\":\"1\"}]", "{}", "[{\"x\":\"1\"}]"},
    /* remove_field / rename_field */
    {"remove_field one", "[{\"type\":\"remove_field\",\"config\":{\"field\":\"a\"}}]", "{\"a\":1,\"b\":2}", "[{\"b\":2}]"},
    {"remove_field list nested", "[{\"type\":\"remove_field\",\"config\":{\"fields\":[\"a\",\"m.x\",\"zz\"]}}]", "{\"a\":1,\"m\":{\"x\":1,\"y\":2}}", "[{\"m\":{\"y\":2}}]"},
    {"rename_field", "[{\"type\":\"rename_field\",\"config\":{\"from\":\"a\",\"to\":\"b.c\"}}]", "{\"a\":1,\"b\":{}}", "[{\"b\":{\"c\":1}}]"},
    {"rename_field missing", "[{\"type\":\"rename_field\",\"config\":{\"from\":\"q\",\"to\":\"b\"}}]", "{\"a\":1}", "[{\"a\":1}]"},
    {"rename overwrites", "[{\"type\":\"rename_field\",\"config\":{\"from\":\"a\",\"to\":\"b\"}}]", "{\"a\":1,\"b\":2}", "[{\"b\":1}]"},
    /* regex_replace */
    {"regex_replace global", "[{\"type\":\"regex_replace\",\"config\":{\"pattern\":\"\\\\d\",\"replacement\":\"#\"}}]", "{\"message\":\"a1b22\"}", "[{\"message\":\"a#b##\"}]"},
    {"regex_replace first only", "[{\"type\":\"regex_replace\",\"config\":{\"pattern\":\"\\\\d\",\"replacement\":\"#\",\"global\":false}}]", "{\"message\":\"a1b22\"}", "[{\"message\":\"a#b22\"}]"},
    {"regex_replace groups target", "[{\"type\":\"regex_replace\",\"config\":{\"source_field\":\"ip\",\"target_field\":\"masked\",\"pattern\":\"(\\\\d+)\\\\.(\\\\d+)\\\\.\\\\d+\\\\.\\\\d+\",\"replacement\":\"$1.$2.x.x\"}}]",
     "{\"ip\":\"10.1.2.3\"}", "[{\"ip\":\"10.1.2.3\",\"masked\":\"10.1.x.x\"}]"},
    {"regex_replace non-string", "[{\"type\":\"regex_replace\",\"config\":{\"source_field\":\"n\",\"pattern\":\"0\",\"replacement\":\"9\"}}]", "{\"n\":100}", "[{\"n\":\"199\"}]"},
    {"regex_replace missing", "[{\"type\":\"regex_replace\",\"config\":{\"pattern\":\"x\"}}]", "{\"a\":1}", "[{\"a\":1}]"},
    /* conditional (gt/lt fixed) */
    {"conditional keep eq", "[{\"type\":\"conditional\",\"config\":{\"field\":\"level\",\"operator\":\"eq\",\"value\":\"error\"}}]", "{\"level\":\"error\"}", "[{\"level\":\"error\"}]"},
    {"conditional keep eq drops", "[{\"type\":\"conditional\",\"config\":{\"field\":\"level\",\"operator\":\"eq\",\"value\":\"error\"}}]", "{\"level\":\"info\"}", "[]"},
    {"conditional gte keeps", "[{\"type\":\"conditional\",\"config\":{\"field\":\"status\",\"operator\":\"gte\",\"value\":500}}]", "{\"status\":503}", "[{\"status\":503}]"},
    {"conditional lt string number", "[{\"type\":\"conditional\",\"config\":{\"field\":\"status\",\"operator\":\"lt\",\"value\":\"400\"}}]", "{\"status\":\"200\"}", "[{\"status\":\"200\"}]"},
    {"conditional gt false drops", "[{\"type\":\"conditional\",\"config\":{\"field\":\"status\",\"operator\":\"gt\",\"value\":500}}]", "{\"status\":200}", "[]"},
    {"conditional drop action", "[{\"type\":\"conditional\",\"config\":{\"field\":\"path\",\"operator\":\"contains\",\"value\":\"health\",\"action\":\"drop\"}}]", "{\"path\":\"/healthz\"}", "[]"},
    {"conditional not_exists", "[{\"type\":\"conditional\",\"config\":{\"field\":\"x\",\"operator\":\"not_exists\",\"value\":\"\"}}]", "{\"a\":1}", "[{\"a\":1}]"},
    {"conditional eq float int", "[{\"type\":\"conditional\",\"config\":{\"field\":\"n\",\"operator\":\"eq\",\"value\":200}}]", "{\"n\":200.0}", "[{\"n\":200.0}]"},
    /* conditional_field */
    {"cf remove", "[{\"type\":\"conditional_field\",\"config\":{\"field\":\"pw\",\"operator\":\"exists\"}}]", "{\"pw\":\"x\",\"a\":1}", "[{\"a\":1}]"},
    {"cf replace", "[{\"type\":\"conditional_field\",\"config\":{\"field\":\"user\",\"operator\":\"starts_with\",\"value\":\"adm\",\"action\":\"replace\",\"replace_with\":\"***\"}}]", "{\"user\":\"admin\"}", "[{\"user\":\"***\"}]"},
    {"cf set_null", "[{\"type\":\"conditional_field\",\"config\":{\"field\":\"n\",\"operator\":\"gt\",\"value\":10,\"action\":\"set_null\"}}]", "{\"n\":11}", "[{\"n\":null}]"},
    {"cf drop_record", "[{\"type\":\"conditional_field\",\"config\":{\"field\":\"m\",\"operator\":\"matches\",\"value\":\"^DEBUG\",\"action\":\"drop_record\"}}]", "{\"m\":\"DEBUG x\"}", "[]"},
    {"cf keep_record missing drops", "[{\"type\":\"conditional_field\",\"config\":{\"field\":\"m\",\"operator\":\"equals\",\"value\":\"x\",\"action\":\"keep_record\"}}]", "{\"a\":1}", "[]"},
    {"cf ends_with no hit", "[{\"type\":\"conditional_field\",\"config\":{\"field\":\"f\",\"operator\":\"ends_with\",\"value\":\".exe\"}}]", "{\"f\":\"a.txt\"}", "[{\"f\":\"a.txt\"}]"},
    {"cf not_exists drop", "[{\"type\":\"conditional_field\",\"config\":{\"field\":\"id\",\"operator\":\"not_exists\",\"action\":\"drop_record\"}}]", "{\"a\":1}", "[]"},
    /* json_validate / json_flatten / json_parse */
    {"json_validate ok", "[{\"type\":\"json_validate\",\"config\":{}}]", "{\"message\":\"{\\\"a\\\":1}\"}", "[{\"message\":\"{\\\"a\\\":1}\"}]"},
    {"json_validate drops", "[{\"type\":\"json_validate\",\"config\":{}}]", "{\"message\":\"{oops\"}", "[]"},
    {"json_validate tag", "[{\"type\":\"json_validate\",\"config\":{\"fail_on_invalid\":false}}]", "{\"message\":\"{oops\"}", "[{\"message\":\"{oops\",\"tags\":[\"_jsonparsefailure\"]}]"},
    {"json_flatten whole", "[{\"type\":\"json_flatten\",\"config\":{}}]", "{\"a\":{\"b\":{\"c\":1}},\"l\":[1,{\"x\":2}],\"e\":{}}", "[{\"a.b.c\":1,\"l.0\":1,\"l.1.x\":2}]"},
    {"json_flatten field sep", "[{\"type\":\"json_flatten\",\"config\":{\"source_field\":\"p\",\"separator\":\"_\"}}]", "{\"p\":\"{\\\"a\\\":{\\\"b\\\":2}}\"}", "[{\"p\":\"{\\\"a\\\":{\\\"b\\\":2}}\",\"@flatten\":{\"a_b\":2}}]"},
    {"json_flatten scalar", "[{\"type\":\"json_flatten\",\"config\":{\"source_field\":\"p\",\"target_field\":\"f\"}}]", "{\"p\":3}", "[{\"p\":3,\"f\":{\"value\":3}}]"},
    {"json_parse merge", "[{\"type\":\"json_parse\",\"config\":{\"remove_source\":true}}]", "{\"message\":\"{\\\"a\\\":1,\\\"big\\\":9223372036854775807}\"}", "[{\"a\":1,\"big\":9223372036854775807}]"},
    {"json_parse target", "[{\"type\":\"json_parse\",\"config\":{\"source_field\":\"p\",\"target_field\":\"o\"}}]", "{\"p\":\"[1,2]\"}", "[{\"p\":\"[1,2]\",\"o\":[1,2]}]"},
    {"json_parse invalid", "[{\"type\":\"json_parse\",\"config\":{}}]", "{\"message\":\"nope\"}", "[{\"message\":\"nope\",\"tags\":[\"_jsonparsefailure\"]}]"},
    /* uppercase_keys */
    {"uppercase_keys", "[{\"type\":\"uppercase_keys\",\"config\":{}}]", "{\"a\":{\"b\":[{\"c\":1}]},\"d\":2}", "[{\"A\":{\"B\":[{\"C\":1}]},\"D\":2}]"},
    {"uppercase_keys shallow", "[{\"type\":\"uppercase_keys\",\"config\":{\"recursive\":false}}]", "{\"a\":{\"b\":1}}", "[{\"A\":{\"b\":1}}]"},
    {"uppercase_keys field", "[{\"type\":\"uppercase_keys\",\"config\":{\"source_field\":[\"m\"]}}]", "{\"m\":{\"x\":1},\"y\":2}", "[{\"m\":{\"X\":1},\"y\":2}]"},
    /* mutate */
    {"mutate order", "[{\"type\":\"mutate\",\"config\":{\"remove\":[\"tmp\"],\"uppercase\":[\"b\"],\"copy\":{\"a\":\"b\"},\"convert\":{\"n\":\"integer\"}}}]",
     "{\"a\":\"x\",\"n\":\"42\",\"tmp\":1}", "[{\"a\":\"x\",\"n\":42,\"b\":\"X\"}]"},
    {"mutate convert", "[{\"type\":\"mutate\",\"config\":{\"convert\":{\"f\":\"float\",\"b\":\"boolean\",\"s\":\"string\",\"i\":\"int\",\"bad\":\"integer\"}}}]",
     "{\"f\":\"1.5\",\"b\":\"true\",\"s\":12,\"i\":3.9,\"bad\":\"x\"}", "[{\"f\":1.5,\"b\":true,\"s\":\"12\",\"i\":3,\"bad\":\"x\"}]"},
    {"mutate split join", "[{\"type\":\"mutate\",\"config\":{\"split\":{\"field\":\"l\",\"separator\":\",\"},\"join\":{\"field\":\"arr\",\"separator\":\"-\",\"target\":\"j\"}}}]",
     "{\"l\":\"a,b\",\"arr\":[1,\"x\"]}", "[{\"l\":[\"a\",\"b\"],\"arr\":[1,\"x\"],\"j\":\"1-x\"}]"},
    {"mutate gsub strip lower", "[{\"type\":\"mutate\",\"config\":{\"gsub\":[{\"field\":\"p\",\"pattern\":\"/+\",\"replacement\":\"/\"}],\"strip\":[\"s\"],\"lowercase\":[\"s\"]}}]",
     "{\"p\":\"a//b///c\",\"s\":\"  HeLLo \"}", "[{\"p\":\"a/b/c\",\"s\":\"hello\"}]"},
    {"mutate gsub flat", "[{\"type\":\"mutate\",\"config\":{\"gsub\":[\"p\",\"x\",\"y\"]}}]", "{\"p\":\"axx\"}", "[{\"p\":\"ayy\"}]"},
    {"mutate merge update replace", "[{\"type\":\"mutate\",\"config\":{\"merge\":[{\"source\":\"s\",\"target\":\"t\"}],\"update\":{\"u\":\"new\",\"missing\":\"no\"},\"replace\":{\"r\":\"%{u}!\"}}}]",
     "{\"s\":[3],\"t\":[1,2],\"u\":\"old\"}", "[{\"s\":[3],\"t\":[1,2,3],\"u\":\"new\",\"r\":\"new!\"}]"},
    {"mutate rename nested", "[{\"type\":\"mutate\",\"config\":{\"rename\":{\"a.b\":\"c\"}}}]", "{\"a\":{\"b\":1}}", "[{\"a\":{},\"c\":1}]"},
    /* drop */
    {"drop always", "[{\"type\":\"drop\",\"config\":{\"always_drop\":true}}]", "{\"a\":1}", "[]"},
    {"drop if equals", "[{\"type\":\"drop\",\"config\":{\"if_field\":\"lvl\",\"equals\":\"debug\"}}]", "{\"lvl\":\"debug\"}", "[]"},
    {"drop if equals keeps", "[{\"type\":\"drop\",\"config\":{\"if_field\":\"lvl\",\"equals\":\"debug\"}}]", "{\"lvl\":\"info\"}", "[{\"lvl\":\"info\"}]"},
    {"drop if missing keeps", "[{\"type\":\"drop\",\"config\":{\"if_field\":\"lvl\",\"equals\":\"debug\"}}]", "{}", "[{}]"},
    {"drop if matches", "[{\"type\":\"drop\",\"config\":{\"if_field\":\"p\",\"matches\":\"^/static/\"}}]", "{\"p\":\"/static/x.js\"}", "[]"},
    {"drop unless only keeps match", "[{\"type\":\"drop\",\"config\":{\"unless_field\":\"lvl\",\"unless_equals\":\"error\"}}]", "{\"lvl\":\"error\"}", "[{\"lvl\":\"error\"}]"},
    {"drop unless only drops rest", "[{\"type\":\"drop\",\"config\":{\"unless_field\":\"lvl\",\"unless_equals\":\"error\"}}]", "{\"lvl\":\"info\"}", "[]"},
    {"drop unless overrides if", "[{\"type\":\"drop\",\"config\":{\"if_field\":\"a\",\"contains\":\"x\",\"unless_field\":\"vip\",\"unless_matches\":\"^y\"}}]", "{\"a\":\"xx\",\"vip\":\"yes\"}", "[{\"a\":\"xx\",\"vip\":\"yes\"}]"},
    {"drop not_equals", "[{\"type\":\"drop\",\"config\":{\"if_field\":\"a\",\"not_equals\":\"keep\"}}]", "{\"a\":\"other\"}", "[]"},
    {"drop percentage 100", "[{\"type\":\"drop\",\"config\":{\"percentage\":100}}]", "{}", "[]"},
    /* kv */
    {"kv basic", "[{\"type\":\"kv\",\"config\":{}}]", "{\"message\":\"a=1 b=two  c=\\\"x y\\\"\"}", "[{\"message\":\"a=1 b=two  c=\\\"x y\\\"\",\"a\":\"1\",\"b\":\"two\",\"c\":\"x y\"}]"},
    {"kv target prefix include", "[{\"type\":\"kv\",\"config\":{\"field_split\":\"&\",\"target_field\":\"q\",\"prefix\":\"p_\",\"include_keys\":[\"a\",\"c\"]}}]",
     "{\"message\":\"a=1&b=2&c=3\"}", "[{\"message\":\"a=1&b=2&c=3\",\"q\":{\"p_a\":\"1\",\"p_c\":\"3\"}}]"},
    {"kv trim exclude defaults remove", "[{\"type\":\"kv\",\"config\":{\"value_split\":\":\",\"field_split\":\",\",\"trim_key\":\" \",\"trim_value\":\" <>\",\"exclude_keys\":[\"x\"],\"default_values\":{\"d\":\"dflt\"},\"remove_field\":true}}]",
     "{\"message\":\" k : <v> ,x:1\"}", "[{\"k\":\"v\",\"d\":\"dflt\"}]"},
    {"kv duplicates first", "[{\"type\":\"kv\",\"config\":{\"allow_duplicate\":false}}]", "{\"message\":\"a=1 a=2\"}", "[{\"message\":\"a=1 a=2\",\"a\":\"1\"}]"},
    {"kv single quotes escapes", "[{\"type\":\"kv\",\"config\":{\"target_field\":\"k\"}}]", "{\"message\":\"m='it\\\\'s ok' n=2\"}", "[{\"message\":\"m='it\\\\'s ok' n=2\",\"k\":{\"m\":\"it's ok\",\"n\":\"2\"}}]"},
    {"kv nothing", "[{\"type\":\"kv\",\"config\":{}}]", "{\"message\":\"no pairs\"}", "[{\"message\":\"no pairs\"}]"},
    /* split emits records */
    {"split array", "[{\"type\":\"split\",\"config\":{\"field\":\"items\"}},{\"type\":\"add_field\",\"config\":{\"field\":\"s\",\"value\":\"%{items}\"}}]",
     "{\"id\":1,\"items\":[\"a\",\"b\"]}", "[{\"id\":1,\"items\":\"a\",\"s\":\"a\"},{\"id\":1,\"items\":\"b\",\"s\":\"b\"}]"},
    {"split string target", "[{\"type\":\"split\",\"config\":{\"terminator\":\",\",\"target\":\"one\"}}]", "{\"message\":\"x,y\"}",
     "[{\"message\":\"x,y\",\"one\":\"x\"},{\"message\":\"x,y\",\"one\":\"y\"}]"},
    {"split single", "[{\"type\":\"split\",\"config\":{}}]", "{\"message\":\"one\"}", "[{\"message\":\"one\"}]"},
    /* fingerprint */
    {"fingerprint sha256", "[{\"type\":\"fingerprint\",\"config\":{\"source_fields\":[\"a\",\"b\"]}}]", "{\"a\":\"x\",\"b\":1}",
     "[{\"a\":\"x\",\"b\":1,\"fingerprint\":\"12b2dcf367df3b4ade776d5727ccc2f03c45ca10e19a483c4c30336613e98d10\"}]"},
    {"fingerprint md5 keys", "[{\"type\":\"fingerprint\",\"config\":{\"source_fields\":[\"a\"],\"method\":\"md5\",\"include_keys\":true,\"target_field\":\"fp\"}}]", "{\"a\":\"x\"}",
     "[{\"a\":\"x\",\"fp\":\"7eabe5d00b83a98373c4654acf769b3f\"}]"},
    {"fingerprint base64 raw", "[{\"type\":\"fingerprint\",\"config\":{\"source_fields\":[\"a\"],\"method\":\"SHA1\",\"base64encode\":true}}]", "{\"a\":\"abc\"}",
     "[{\"a\":\"abc\",\"fingerprint\":\"qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\"}]"},
    {"fingerprint none present", "[{\"type\":\"fingerprint\",\"config\":{\"source_fields\":[\"q\"]}}]", "{\"a\":1}", "[{\"a\":1}]"},
    /* include / exclude */
    {"include equals", "[{\"type\":\"include\",\"config\":{\"field\":\"t\",\"equals\":\"a\"}}]", "{\"t\":\"a\"}", "[{\"t\":\"a\"}]"},
    {"include missing drops", "[{\"type\":\"include\",\"config\":{\"field\":\"t\",\"equals\":\"a\"}}]", "{}", "[]"},
    {"include any_field", "[{\"type\":\"include\",\"config\":{\"any_field\":[\"x\",\"y\"],\"any_matches\":\"^err\"}}]", "{\"y\":\"error\"}", "[{\"y\":\"error\"}]"},
    {"exclude contains", "[{\"type\":\"exclude\",\"config\":{\"field\":\"ua\",\"contains\":\"bot\"}}]", "{\"ua\":\"googlebot\"}", "[]"},
    {"exclude keeps", "[{\"type\":\"exclude\",\"config\":{\"field\":\"ua\",\"contains\":\"bot\"}}]", "{\"ua\":\"firefox\"}", "[{\"ua\":\"firefox\"}]"},
    {"exclude list equals", "[{\"type\":\"exclude\",\"config\":{\"field\":\"c\",\"equals\":[\"a\",\"b\"]}}]", "{\"c\":\"b\"}", "[]"},
    /* sample */
    {"sample 100", "[{\"type\":\"sample\",\"config\":{\"percentage\":100}}]", "{\"a\":1}", "[{\"a\":1}]"},
    {"sample 0", "[{\"type\":\"sample\",\"config\":{\"rate\":0}}]", "{\"a\":1}", "[]"},
    /* passthrough / enricher */
    {"passthrough", "[{\"type\":\"passthrough\",\"config\":{\"description\":\"x\"}}]", "{\"a\":1}", "[{\"a\":1}]"},
    {"enricher accepted", "[{\"type\":\"enricher\",\"config\":{\"enricher_id\":\"e\"}}]", "{\"a\":1}", "[{\"a\":1}]"},
    /* date_parse */
    {"date_parse iso", "[{\"type\":\"date_parse\",\"config\":{}}]", "{\"timestamp\":\"2024-03-10T12:34:56.789+02:00\"}",
     "[{\"timestamp\":\"2024-03-10T12:34:56.789+02:00\",\"@timestamp\":\"2024-03-10T10:34:56.789Z\"}]"},
    {"date_parse zone reads input", "[{\"type\":\"date_parse\",\"config\":{\"formats\":[\"2006-01-02 15:04:05\"],\"timezone\":\"America/New_York\",\"target_field\":\"t\"}}]",
     "{\"timestamp\":\"2024-07-01 08:00:00\"}", "[{\"timestamp\":\"2024-07-01 08:00:00\",\"t\":\"2024-07-01T08:00:00-04:00\"}]"},
    {"date_parse winter zone", "[{\"type\":\"date_parse\",\"config\":{\"format\":\"yyyy-MM-dd HH:mm:ss\",\"timezone\":\"Europe/Paris\",\"target_field\":\"t\"}}]",
     "{\"timestamp\":\"2024-01-15 12:00:00\"}", "[{\"timestamp\":\"2024-01-15 12:00:00\",\"t\":\"2024-01-15T12:00:00+01:00\"}]"},
    {"date_parse footer rule 2090", "[{\"type\":\"date_parse\",\"config\":{\"formats\":[\"ISO8601\"],\"timezone\":\"America/New_York\",\"target_field\":\"t\"}}]",
     "{\"timestamp\":\"2090-07-04T12:00:00Z\"}", "[{\"timestamp\":\"2090-07-04T12:00:00Z\",\"t\":\"2090-07-04T08:00:00-04:00\"}]"},
    {"date_parse apache", "[{\"type\":\"date_parse\",\"config\":{\"format\":\"02/Jan/2006:15:04:05 -0700\",\"target_field\":\"t\"}}]",
     "{\"timestamp\":\"10/Oct/2000:13:55:36 -0700\"}", "[{\"timestamp\":\"10/Oct/2000:13:55:36 -0700\",\"t\":\"2000-10-10T20:55:36Z\"}]"},
    {"date_parse strftime", "[{\"type\":\"date_parse\",\"config\":{\"format\":\"%d.%m.%Y %H:%M\",\"target_field\":\"t\"}}]",
     "{\"timestamp\":\"05.06.2023 07:08\"}", "[{\"timestamp\":\"05.06.2023 07:08\",\"t\":\"2023-06-05T07:08:00Z\"}]"},
    {"date_parse unix ms number", "[{\"type\":\"date_parse\",\"config\":{\"target_field\":\"t\"}}]", "{\"timestamp\":1700000000123}",
     "[{\"timestamp\":1700000000123,\"t\":\"2023-11-14T22:13:20.123Z\"}]"},
    {"date_parse unix keyword", "[{\"type\":\"date_parse\",\"config\":{\"format\":\"unix\",\"target_field\":\"t\"}}]", "{\"timestamp\":\"1700000000\"}",
     "[{\"timestamp\":\"1700000000\",\"t\":\"2023-11-14T22:13:20Z\"}]"},
    {"date_parse syslog no year", "[{\"type\":\"date_parse\",\"config\":{\"format\":\"Jan _2 15:04:05\",\"target_field\":\"t\"}}]", "{\"timestamp\":\"Nov  3 01:02:03\"}",
     "[{\"timestamp\":\"Nov  3 01:02:03\",\"t\":\"2025-11-03T01:02:03Z\"}]"},
    {"date_parse failure tag", "[{\"type\":\"date_parse\",\"config\":{\"format\":\"2006-01-02\"}}]", "{\"timestamp\":\"garbage\"}",
     "[{\"timestamp\":\"garbage\",\"tags\":[\"_dateparsefailure\"]}]"},
    {"date_parse rejects Feb 30", "[{\"type\":\"date_parse\",\"config\":{\"format\":\"2006-01-02\",\"tag_on_failure\":\"\"}}]", "{\"timestamp\":\"2023-02-30\"}",
     "[{\"timestamp\":\"2023-02-30\"}]"},
    {"date_parse numeric string default", "[{\"type\":\"date_parse\",\"config\":{\"target_field\":\"t\"}}]", "{\"timestamp\":\"1700000000\"}",
     "[{\"timestamp\":\"1700000000\",\"t\":\"2023-11-14T22:13:20Z\"}]"},
    {"date_parse explicit format no epoch guess", "[{\"type\":\"date_parse\",\"config\":{\"format\":\"2006-01-02\"}}]", "{\"timestamp\":\"2023\"}",
     "[{\"timestamp\":\"2023\",\"tags\":[\"_dateparsefailure\"]}]"},
    /* timestamp */
    {"timestamp sets BfTs", "[{\"type\":\"timestamp\",\"config\":{\"field\":\"ts\"}}]", "{\"ts\":\"2024-01-01T00:00:01.5Z\",\"BfTs\":1}", "[{\"ts\":\"2024-01-01T00:00:01.5Z\",\"BfTs\":1704067201500}]"},
    /* grok via the filter */
    {"grok typed nested", "[{\"type\":\"grok\",\"config\":{\"pattern\":\"%{IP:src.ip} %{NUMBER:bytes:int} %{NUMBER:dur:float}\"}}]", "{\"message\":\"10.0.0.1 512 0.25\"}",
     "[{\"message\":\"10.0.0.1 512 0.25\",\"src\":{\"ip\":\"10.0.0.1\"},\"bytes\":512,\"dur\":0.25}]"},
    {"grok failure tag", "[{\"type\":\"grok\",\"config\":{\"pattern\":\"^%{IP:ip}$\"}}]", "{\"message\":\"nope\"}", "[{\"message\":\"nope\",\"tags\":[\"_grokparsefailure\"]}]"},
    {"grok break_on_match", "[{\"type\":\"grok\",\"config\":{\"patterns\":[\"%{INT:a}\",\"%{WORD:b}\"]}}]", "{\"message\":\"12\"}", "[{\"message\":\"12\",\"a\":\"12\"}]"},
    {"grok all patterns", "[{\"type\":\"grok\",\"config\":{\"patterns\":[\"%{INT:a}\",\"%{WORD:b}\"],\"break_on_match\":false}}]", "{\"message\":\"12\"}", "[{\"message\":\"12\",\"a\":\"12\",\"b\":\"12\"}]"},
    {"grok target custom", "[{\"type\":\"grok\",\"config\":{\"pattern\":\"%{MYID:id}\",\"custom_patterns\":{\"MYID\":\"ID-[0-9]+\"},\"target_field\":\"g\"}}]", "{\"message\":\"x ID-42 y\"}",
     "[{\"message\":\"x ID-42 y\",\"g\":{\"id\":\"ID-42\"}}]"},
    {"grok no overwrite", "[{\"type\":\"grok\",\"config\":{\"pattern\":\"%{WORD:a}\",\"overwrite_keys\":false}}]", "{\"message\":\"new\",\"a\":\"old\"}", "[{\"message\":\"new\",\"a\":\"old\"}]"},
    {"grok keep empty", "[{\"type\":\"grok\",\"config\":{\"pattern\":\"a(?<e>x*)b\",\"keep_empty_captures\":true}}]", "{\"message\":\"ab\"}", "[{\"message\":\"ab\",\"e\":\"\"}]"},
    {"grok overwrite message", "[{\"type\":\"grok\",\"config\":{\"pattern\":\"%{WORD:lvl}: %{GREEDYDATA:message}\"}}]", "{\"message\":\"ERR: boom\"}", "[{\"message\":\"boom\",\"lvl\":\"ERR\"}]"},
    {"grok match shape", "[{\"type\":\"grok\",\"config\":{\"match\":{\"line\":\"%{INT:n:int}\"}}}]", "{\"line\":\"x 5\"}", "[{\"line\":\"x 5\",\"n\":5}]"},
    /* useragent */
    {"useragent chrome windows", "[{\"type\":\"useragent\",\"config\":{}}]",
     "{\"user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36\"}",
     "[{\"user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36\",\"ua\":{\"name\":\"Chrome\",\"major\":\"120\",\"minor\":\"0\",\"patch\":\"6099\",\"version\":\"120.0.6099\",\"os\":\"Windows\",\"os_version\":\"10\",\"device\":\"Desktop\"}}]"},
    {"useragent iphone safari", "[{\"type\":\"useragent\",\"config\":{\"source_field\":\"a\",\"target_field\":\"u\"}}]",
     "{\"a\":\"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1\"}",
     "[{\"a\":\"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1\",\"u\":{\"name\":\"Safari\",\"major\":\"17\",\"minor\":\"1\",\"version\":\"17.1\",\"os\":\"iOS\",\"os_major\":\"17\",\"os_minor\":\"1\",\"os_version\":\"17.1\",\"device_brand\":\"Apple\",\"device_model\":\"iPhone\",\"device\":\"iPhone\"}}]"},
    {"useragent curl", "[{\"type\":\"useragent\",\"config\":{}}]", "{\"user_agent\":\"curl/8.4.0\"}",
     "[{\"user_agent\":\"curl/8.4.0\",\"ua\":{\"name\":\"curl\",\"major\":\"8\",\"minor\":\"4\",\"patch\":\"0\",\"version\":\"8.4.0\",\"os\":\"Other\",\"device\":\"Other\"}}]"},
    {"useragent bot", "[{\"type\":\"useragent\",\"config\":{}}]", "{\"user_agent\":\"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)\"}",
     "[{\"user_agent\":\"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)\",\"ua\":{\"name\":\"Googlebot\",\"major\":\"2\",\"minor\":\"1\",\"version\":\"2.1\",\"os\":\"Other\",\"device\":\"Spider\"}}]"},
    /* dns (loopback only) */
    {"dns reverse append", "[{\"type\":\"dns\",\"config\":{\"resolve\":[\"ip\"],\"action\":\"append\"}}]", "{\"ip\":\"127.0.0.1\"}", "[{\"ip\":\"127.0.0.1\",\"ip_resolved\":\"localhost\"}]"},
    {"dns forward replace", "[{\"type\":\"dns\",\"config\":{\"resolve\":[\"h\"]}}]", "{\"h\":\"localhost\"}", "[{\"h\":\"127.0.0.1\"}]"},
    {"dns target", "[{\"type\":\"dns\",\"config\":{\"resolve\":[\"ip\"],\"target_field\":\"n\"}}]", "{\"ip\":\"127.0.0.1\"}", "[{\"ip\":\"127.0.0.1\",\"n\":\"localhost\"}]"},
    /* condition expressions on any filter */
    {"condition true", "[{\"type\":\"add_field\",\"condition\":\"status >= 500 and method == 'GET'\",\"config\":{\"field\":\"alert\",\"value\":true}}]",
     "{\"status\":503,\"method\":\"GET\"}", "[{\"status\":503,\"method\":\"GET\",\"alert\":true}]"},
    {"condition false", "[{\"type\":\"add_field\",\"condition\":\"status >= 500 and method == 'GET'\",\"config\":{\"field\":\"alert\",\"value\":true}}]",
     "{\"status\":503,\"method\":\"POST\"}", "[{\"status\":503,\"method\":\"POST\"}]"},
    {"condition not or", "[{\"type\":\"drop\",\"condition\":\"not (a exists) or b contains \\\"x\\\"\",\"config\":{\"always_drop\":true}}]", "{\"a\":1,\"b\":\"yxz\"}", "[]"},
    {"condition object", "[{\"type\":\"drop\",\"condition\":{\"field\":\"lvl\",\"operator\":\"eq\",\"value\":\"debug\"},\"config\":{\"always_drop\":true}}]", "{\"lvl\":\"info\"}", "[{\"lvl\":\"info\"}]"},
    /* errors tag but keep */
    {"filter error tagged", "[{\"type\":\"add_field\",\"config\":{\"field\":\"a.b\",\"value\":1}}]", "{\"a\":5}", "[{\"a\":5,\"tags\":[\"_filter_error\"]}]"},
    /* chain */
    {"chain", "[{\"type\":\"include\",\"config\":{\"field\":\"keep\",\"equals\":true}},{\"type\":\"add_field\",\"config\":{\"field\":\"x\",\"value\":\"y\"}},{\"type\":\"json_flatten\",\"config\":{}}]",
     "{\"keep\":true,\"o\":{\"p\":1}}", "[{\"keep\":true,\"o.p\":1,\"x\":\"y\"}]"},
};

static void test_filter_cases(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        failed += pt_expect(CASES[i].name, CASES[i].pipe, CASES[i].in, CASES[i].out, NULL);
    assert_int_equal(failed, 0);
}

static void test_rejects(void **state)
{
    (void)state;
    pt_reject("unknown type", "[{\"type\":\"nope\"}]", "unknown filter type 'nope'");
    pt_reject("missing field", "[{\"type\":\"add_field\",\"config\":{\"value\":1}}]", "option field is required");
    pt_reject("bad regex", "[{\"type\":\"regex_replace\",\"config\":{\"pattern\":\"(\"}}]", "regex error");
    pt_reject("bad zone", "[{\"type\":\"date_parse\",\"config\":{\"timezone\":\"Mars/Olympus\"}}]", "unknown timezone");
    pt_reject("bad method", "[{\"type\":\"fingerprint\",\"config\":{\"method\":\"CRC\"}}]", "unknown method");
    pt_reject("bad condition", "[{\"type\":\"passthrough\",\"condition\":\"a == \"}]", "needs a value");
    pt_reject("unknown grok", "[{\"type\":\"grok\",\"config\":{\"pattern\":\"%{NOPE:x}\"}}]", "unknown pattern %{NOPE}");
    pt_reject("grok self loop", "[{\"type\":\"grok\",\"config\":{\"pattern\":\"%{A}\",\"custom_patterns\":{\"A\":\"x%{A}\"}}}]", "refers to itself");
    pt_reject("sample needs rate", "[{\"type\":\"sample\",\"config\":{}}]", "percentage or rate");
    pt_reject("percentage range", "[{\"type\":\"drop\",\"config\":{\"percentage\":150}}]", "out of range");
    pt_reject("geoip without db", "[{\"type\":\"geoip\",\"config\":{}}]", "no geoip database");
    pt_reject("mutate bad convert", "[{\"type\":\"mutate\",\"config\":{\"convert\":{\"a\":\"complex\"}}}]", "unknown type");
    pt_reject("not a list", "{\"type\":\"x\"}", "list of filters");
}

/* sample with a seed is a function of the record: the same records pass every time, about rate of them */
static void test_sample_deterministic(void **state)
{
    (void)state;
    const char *pipe = "[{\"type\":\"sample\",\"config\":{\"percentage\":30,\"seed\":7}}]";
    int kept1 = 0, kept2 = 0, same = 1;
    for (int i = 0; i < 2000; i++) {
        char in[64];
        snprintf(in, sizeof in, "{\"i\":%d}", i);
        char err[128];
        json_t *a = pt_run(pipe, in, NULL, err, sizeof err);
        json_t *b = pt_run(pipe, in, NULL, err, sizeof err);
        kept1 += (int)json_array_size(a);
        kept2 += (int)json_array_size(b);
        same &= json_array_size(a) == json_array_size(b);
        json_decref(a);
        json_decref(b);
    }
    assert_true(same);
    assert_int_equal(kept1, kept2);
    assert_true(kept1 > 480 && kept1 < 720);
}

/* drop percentage drops about that share */
static void test_drop_percentage(void **state)
{
    (void)state;
    json_t *spec = json_loads("[{\"type\":\"drop\",\"config\":{\"if_field\":\"a\",\"equals\":\"x\",\"percentage\":25}}]", 0, NULL);
    pipeline *p;
    char err[128];
    assert_int_equal(pipeline_compile(spec, NULL, &p, err, sizeof err), 0);
    rx_scratch *rx;
    rx_scratch_create(&rx);
    pf_ctx ctx = {.rx = rx, .rng = 1};
    json_t *out = json_array();
    pl_result res = {0};
    for (int i = 0; i < 4000; i++)
        pipeline_run(p, json_pack("{ss}", "a", "x"), &ctx, pt_collect, out, NULL, NULL, &res);
    assert_true(res.dropped > 800 && res.dropped < 1200);
    assert_int_equal(res.dropped + res.emitted, 4000);
    json_decref(out);
    json_decref(spec);
    rx_scratch_free(rx);
    pipeline_unref(p);
}

static void test_version_and_empty(void **state)
{
    (void)state;
    json_t *a = json_loads("[{\"type\":\"passthrough\",\"enabled\":false}]", 0, NULL);
    json_t *b = json_loads("[{\"enabled\":false,\"type\":\"passthrough\"}]", 0, NULL);
    pipeline *pa, *pb;
    char err[128];
    assert_int_equal(pipeline_compile(a, NULL, &pa, err, sizeof err), 0);
    assert_int_equal(pipeline_compile(b, NULL, &pb, err, sizeof err), 0);
    assert_true(pipeline_empty(pa));
    assert_string_equal(pipeline_version(pa), pipeline_version(pb));
    assert_int_equal(strlen(pipeline_version(pa)), 16);
    pipeline_unref(pa);
    pipeline_unref(pb);
    json_decref(a);
    json_decref(b);
}

/* the dns filter shares one TTL cache: the second lookup of a name is a hit */
static void test_dns_cache(void **state)
{
    (void)state;
    dns_cache *c;
    assert_int_equal(dns_cache_create(10, &c), 0);
    pl_env env = {.dns = c};
    const char *pipe = "[{\"type\":\"dns\",\"config\":{\"resolve\":[\"ip\"],\"action\":\"append\"}}]";
    for (int i = 0; i < 3; i++)
        assert_int_equal(pt_expect("dns cached", pipe, "{\"ip\":\"127.0.0.1\"}",
                                   "[{\"ip\":\"127.0.0.1\",\"ip_resolved\":\"localhost\"}]", &env), 0);
    assert_int_equal(dns_cache_misses(c), 1);
    assert_int_equal(dns_cache_hits(c), 2);
    /* expired entries are looked up again (loopback names only: tests never leave the host) */
    char *r = NULL;
    assert_int_equal(dns_resolve(c, "localhost", 60000, 2000, 0, &r), 0);
    assert_string_equal(r, "127.0.0.1");
    free(r);
    assert_int_equal(dns_resolve(c, "localhost", 60000, 2000, 1, &r), 0);
    free(r);
    assert_int_equal(dns_cache_hits(c), 3);
    assert_int_equal(dns_resolve(c, "localhost", 60000, 0, 120000, &r), 0);
    free(r);
    assert_int_equal(dns_cache_misses(c), 3);
    dns_cache_destroy(c);
}

/* A resolver that answers after a second (a DNS server that is slow or gone), NXDOMAIN at once. */
static int slow_lookup(const char *q, char **out)
{
    if (!strcmp(q, "nxdomain.test"))   /* answered at once */
        return -ENOENT;
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    return (*out = strdup("10.0.0.1")) ? 0 : -ENOMEM;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The dns filter's timeout holds whatever the resolver does: the record goes on unresolved, the late
 * answer still fills the cache, lookups running at once are bounded, and destroying the cache while
 * one runs is safe (ASan/valgrind runs check the last part). */
static void test_dns_timeout(void **state)
{
    (void)state;
    dns_cache *c;
    assert_int_equal(dns_cache_create(10, &c), 0);
    dns_cache_set_lookup(c, slow_lookup, 2);
    char *r = NULL;
    int64_t t0 = mono_ms();
    assert_int_equal(dns_resolve(c, "slow.test", 60000, 50, 0, &r), -ETIMEDOUT);
    assert_true(mono_ms() - t0 < 700);   /* did not wait for the resolver (bounds allow for valgrind) */
    assert_null(r);
    assert_int_equal(dns_cache_timeouts(c), 1);
    /* through the filter: the record passes unchanged, without waiting for the resolver */
    pl_env env = {.dns = c};
    const char *pipe = "[{\"type\":\"dns\",\"config\":{\"resolve\":[\"h\"],\"timeout\":0.05}}]";
    assert_int_equal(pt_expect("dns timeout", pipe, "{\"h\":\"other.test\"}", "[{\"h\":\"other.test\"}]", &env), 0);
    /* two lookups are running now (the cap): a third miss is refused at once */
    t0 = mono_ms();
    assert_int_equal(dns_resolve(c, "third.test", 60000, 1000, 0, &r), -EBUSY);
    assert_true(mono_ms() - t0 < 700);
    /* the late answers land in the cache: later records are resolved from it */
    struct timespec ts = {1, 300 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(dns_resolve(c, "slow.test", 60000, 50, 1, &r), 0);
    assert_string_equal(r, "10.0.0.1");
    free(r);
    assert_int_equal(pt_expect("dns cached late", pipe, "{\"h\":\"other.test\"}", "[{\"h\":\"10.0.0.1\"}]", &env), 0);
    /* a resolver that answers in time: negative answers are cached too */
    assert_int_equal(dns_resolve(c, "nxdomain.test", 60000, 1000, 0, &r), -ENOENT);
    uint64_t misses = dns_cache_misses(c);
    assert_int_equal(dns_resolve(c, "nxdomain.test", 60000, 1000, 1, &r), -ENOENT);
    assert_int_equal(dns_cache_misses(c), misses);
    /* destroyed while a lookup runs: the helper finishes alone */
    assert_int_equal(dns_resolve(c, "gone.test", 60000, 10, 0, &r), -ETIMEDOUT);
    dns_cache_destroy(c);
    nanosleep(&ts, NULL);   /* let it finish before the process ends (leak checkers) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_cases),
        cmocka_unit_test(test_dns_timeout),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_sample_deterministic),
        cmocka_unit_test(test_drop_percentage),
        cmocka_unit_test(test_version_and_empty),
        cmocka_unit_test(test_dns_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
