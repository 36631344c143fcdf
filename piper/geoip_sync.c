/* geoip_sync: see geoip_sync.h. */
#include "geoip_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bf_log.h"
#include "bf_store.h"
#include "bf_util.h"

static const char *const NAMES[] = {"GeoLite2-City.mmdb", "GeoLite2-ASN.mmdb"};

static int write_sink(void *ud, const void *d, size_t n)
{
    return fwrite(d, 1, n, ud) == n ? 0 : -EIO;
}

/* 1 downloaded, 0 up to date or absent remotely, <0 error */
static int fetch_one(bf_store *s, const char *name, const char *dir, bool *present)
{
    bf_store_info info = {0};
    char path[512], tmp[560];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = bf_store_head(s, name, &info);
    bf_store_info_free(&info);
    struct stat st;
    bool have = stat(path, &st) == 0;
    *present = have;
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    int64_t local_ms = have ? (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 : -1;
    if (have && info.mtime_ms <= local_ms)
        return 0;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    bf_store_info got = {0};
    rc = bf_store_get(s, name, write_sink, f, &got);
    if (fclose(f) && !rc)
        rc = -EIO;
    if (!rc && stat(tmp, &st) == 0 && got.size > 0 && st.st_size != got.size)
        rc = -EIO;   /* short download */
    MMDB_s probe;
    if (!rc && MMDB_open(tmp, MMDB_MODE_MMAP, &probe) != MMDB_SUCCESS)
        rc = -EINVAL;
    else if (!rc)
        MMDB_close(&probe);
    int64_t mt = got.mtime_ms > 0 ? got.mtime_ms : info.mtime_ms;
    bf_store_info_free(&got);
    if (!rc && mt > 0) {
        struct timespec ts[2] = {{mt / 1000, (mt % 1000) * 1000000}, {mt / 1000, (mt % 1000) * 1000000}};
        utimensat(AT_FDCWD, tmp, ts, 0);
    }
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (rc)
        unlink(tmp);
    else
        *present = true;
    return rc ? rc : 1;
}

int geoip_sync(const char *uri, const bf_s3_config *s3, const char *dir, geoip_mgr *m)
{
    char err[256];
    bf_store *s;
    int rc = bf_mkdir_p(dir, 0750);
    if (rc)
        return rc;
    if ((rc = bf_store_open(uri, s3, NULL, &s, err, sizeof err))) {
        bf_log_kv(BF_LOG_WARN, "geoip.uri cannot be opened", "uri", uri, "error", err, NULL);
        return rc;
    }
    bool changed = false, present[2] = {false, false};
    for (size_t i = 0; i < 2; i++) {
        int r = fetch_one(s, NAMES[i], dir, &present[i]);
        if (r < 0)
            bf_log_kv(BF_LOG_WARN, "geoip download failed", "name", NAMES[i], "error", strerror(-r), NULL);
        changed |= r > 0;
    }
    bf_store_close(s);
    if (!changed && geoip_mgr_generation(m) > 0)
        return 0;
    if (!present[0] && !present[1])
        return 0;
    char city[512], asn[512];
    snprintf(city, sizeof city, "%s/%s", dir, NAMES[0]);
    snprintf(asn, sizeof asn, "%s/%s", dir, NAMES[1]);
    rc = geoip_mgr_load(m, present[0] ? city : NULL, present[1] ? asn : NULL);
    if (rc)
        return rc;
    bf_log_kv(BF_LOG_INFO, "geoip databases loaded", "dir", dir, NULL);
    return 1;
}
