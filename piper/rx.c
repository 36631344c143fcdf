/* rx: see rx.h. */
#include "rx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rx_compile(const char *pattern, uint32_t flags, rx **out, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE eoff;
    *out = NULL;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                     flags | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eoff, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "regex error at offset %zu: %s", (size_t)eoff, (char *)msg);
        return -EINVAL;
    }
    /* JIT is an optimisation: when unavailable the interpreter still works. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    rx *r = calloc(1, sizeof *r);
    if (!r) {
        pcre2_code_free(code);
        return -ENOMEM;
    }
    r->code = code;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &r->ncap);
    if (r->ncap + 1 > RX_MAX_PAIRS) {
        snprintf(err, errlen, "regex has too many groups (%u)", r->ncap);
        rx_free(r);
        return -EINVAL;
    }
    *out = r;
    return 0;
}

void rx_free(rx *r)
{
    if (!r)
        return;
    pcre2_code_free(r->code);
    free(r);
}

int rx_scratch_create(rx_scratch **out)
{
    rx_scratch *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->md = pcre2_match_data_create(RX_MAX_PAIRS, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    s->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (!s->md || !s->mctx || !s->jit) {
        rx_scratch_free(s);
        return -ENOMEM;
    }
    pcre2_jit_stack_assign(s->mctx, NULL, s->jit);
    /* bound backtracking so a hostile line cannot pin a worker */
    pcre2_set_match_limit(s->mctx, 5000000);
    *out = s;
    return 0;
}

void rx_scratch_free(rx_scratch *s)
{
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->jit);
    free(s);
}

int rx_search(const rx *r, rx_scratch *s, const char *subj, size_t len, size_t offset)
{
    int rc = pcre2_match(r->code, (PCRE2_SPTR)subj, len, offset, 0, s->md, s->mctx);
    s->last_rc = rc;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return -EINVAL;
    return rc == 0 ? 1 : rc;
}

bool rx_test(const rx *r, rx_scratch *s, const char *subj, size_t len)
{
    rx_scratch *tmp = NULL;
    if (!s) {
        if (rx_scratch_create(&tmp))
            return false;
        s = tmp;
    }
    bool m = rx_search(r, s, subj, len, 0) > 0;
    rx_scratch_free(tmp);
    return m;
}

/* Append group g of the current match (nothing when unset). */
static int put_group(const rx *r, rx_scratch *s, const char *subj, uint32_t g, bf_buf *out)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    if (g > r->ncap || ov[2 * g] == PCRE2_UNSET)
        return 0;
    return bf_buf_append(out, subj + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

/* Expand $n / ${n} / ${name} / $$ in repl for the current match. */
static int expand_repl(const rx *r, rx_scratch *s, const char *subj, const char *repl, bf_buf *out)
{
    for (const char *p = repl; *p; p++) {
        if (*p != '$' || !p[1]) {
            if (bf_buf_putc(out, *p))
                return -ENOMEM;
            continue;
        }
        p++;
        if (*p == '$') {
            if (bf_buf_putc(out, '$'))
                return -ENOMEM;
        } else if (*p >= '0' && *p <= '9') {
            uint32_t g = 0;
            while (*p >= '0' && *p <= '9' && g < 1000)
                g = g * 10 + (uint32_t)(*p++ - '0');
            p--;
            if (put_group(r, s, subj, g, out))
                return -ENOMEM;
        } else if (*p == '{' && strchr(p, '}')) {
            const char *e = strchr(p, '}');
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
            char *end;
            long g = strtol(name, &end, 10);
            int gi = (*end || end == name) ? pcre2_substring_number_from_name(r->code, (PCRE2_SPTR)name) : (int)g;
            if (gi >= 0 && put_group(r, s, subj, (uint32_t)gi, out))
                return -ENOMEM;
            p = e;
        } else {
            if (bf_buf_putc(out, '$') || bf_buf_putc(out, *p))
                return -ENOMEM;
        }
    }
    return 0;
}

int rx_replace(const rx *r, rx_scratch *s, const char *subj, size_t len, const char *repl, bool global,
               bool expand, bf_buf *out)
{
    size_t pos = 0, copied = 0;
    int n = 0;
    while (pos <= len) {
        int m = rx_search(r, s, subj, len, pos);
        if (m < 0)
            return m;
        if (m == 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        if (bf_buf_append(out, subj + copied, ov[0] - copied))
            return -ENOMEM;
        int rc = expand ? expand_repl(r, s, subj, repl, out) : bf_buf_puts(out, repl);
        if (rc)
            return rc;
        n++;
        copied = ov[1];
        if (ov[1] == ov[0]) {
            /* empty match: copy one char and move on so we never loop */
            if (ov[1] >= len)
                break;
            if (bf_buf_putc(out, subj[ov[1]]))
                return -ENOMEM;
            copied = ov[1] + 1;
        }
        pos = copied;
        if (!global)
            break;
    }
    if (bf_buf_append(out, subj + copied, len - copied))
        return -ENOMEM;
    return n;
}
