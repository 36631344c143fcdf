/* bf_store_file: the file:// object-store backend (used through bf_store.h, never directly).
 * Object "a/b/c" of file:///root is the regular file /root/a/b/c.
 *   put        temp file ".bftmp.*" in the target directory, fsync, rename, fsync directory
 *   create     complete temp file, then link(2) to the final name (EEXIST = lost), fsync directory
 *   metadata   sidecar JSON object "/root/a/b/.bfmeta.c" (written before the data becomes visible)
 *   list       depth-first walk in byte order (directories sorted as "name/"), so pages come out in the
 *              same lexicographic order as S3; the continuation token is the last key returned
 *   delete     unlinks the file and its sidecar, then removes parent directories left empty
 * Names starting with ".bf" are reserved: such key segments are refused (-EINVAL), never listed.
 * A key that would need a directory where a file is (or the reverse) fails with -EINVAL. */
#ifndef BF_STORE_FILE_H
#define BF_STORE_FILE_H
#include "bf_store.h"
extern const bf_store_ops bf_store_file_ops;
#endif
