/*
 * fs — vpcd's private files: the data directory (0700) and every file in
 * it (0600), whatever modes an earlier run or another tool left, and files
 * written whole through a temporary of a name nobody can guess (O_EXCL,
 * never through a symbolic link) renamed over the old one.
 *
 * The data directory holds the root access key, pre-shared keys (in the
 * SQLite database, its -wal and -shm) and the TLS key: nobody but vpcd's
 * user may read any of it. vpcd also sets umask 077 so that what SQLite
 * and others create later is born private.
 */
#ifndef VPCD_FS_H
#define VPCD_FS_H

#include <stddef.h>
#include <sys/types.h>

#define FS_DIR_MODE	0700
#define FS_FILE_MODE	0600

/* Creates dir (0700) if missing; otherwise makes it 0700 and every regular
 * file and directory directly in it 0600 / 0700 (symbolic links are left
 * alone and never followed; a logged warning names each file it changed).
 * 0, or -1 (logged) when dir is not a directory or cannot be fixed. */
int fs_private_dir(const char *dir);

/* The dir and every regular file and directory directly in it become
 * uid:gid (symbolic links neither followed nor changed). 0, or -1 (logged). */
int fs_private_dir_chown(const char *dir, unsigned uid, unsigned gid);

/* Writes len bytes to path (mode 0600) atomically: a new temporary beside
 * it (mkostemp: O_CREAT|O_EXCL, so no symbolic link is followed and no
 * file of another is reused), fsync, rename over path, fsync of the
 * directory. 0, or -1 with errno set (the temporary is removed). */
int fs_write_private(const char *path, const void *data, size_t len);

/* Reads the whole of path (at most max bytes, no symbolic link followed)
 * into a new NUL-terminated buffer; NULL with errno set. *len: its size
 * without the NUL. The caller frees it (secret_wipe first if it is one). */
char *fs_read_file(const char *path, size_t max, size_t *len);

#endif
