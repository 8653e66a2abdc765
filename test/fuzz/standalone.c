/* Replays every file under the given corpus directories through the target,
 * so seed inputs and past crashers stay regression tests. */
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static int replay_file(apr_pool_t *p, const char *path)
{
    apr_file_t *f;
    apr_finfo_t info;
    char *buf;
    apr_size_t n;

    if (apr_file_open(&f, path, APR_READ | APR_BINARY, 0, p) != APR_SUCCESS
        || apr_file_info_get(&info, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        fprintf(stderr, "cannot read %s\n", path);
        return 0;
    }
    n = (apr_size_t)info.size;
    buf = malloc(n ? n : 1); /* exact size, so overreads are caught by tools */
    if (n && apr_file_read_full(f, buf, n, &n) != APR_SUCCESS) {
        free(buf);
        return 0;
    }
    apr_file_close(f);
    LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
    free(buf);
    return 1;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    int i, count = 0;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    for (i = 1; i < argc; i++) {
        apr_dir_t *dir;
        apr_finfo_t entry;
        if (apr_dir_open(&dir, argv[i], p) != APR_SUCCESS) {
            fprintf(stderr, "cannot open corpus %s\n", argv[i]);
            return 1;
        }
        while (apr_dir_read(&entry, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS) {
            if (entry.filetype != APR_REG) {
                continue;
            }
            if (!replay_file(p, apr_pstrcat(p, argv[i], "/", entry.name, NULL))) {
                return 1;
            }
            count++;
        }
        apr_dir_close(dir);
    }
    printf("%s: replayed %d inputs\n", argv[0], count);
    return count > 0 ? 0 : 1;
}
