/*
 * fs.c — private files (fs.h): the data directory's modes, atomic writes
 * through unguessable temporaries, bounded whole-file reads.
 *
 * Never follows a symbolic link inside the data directory: a link planted
 * there must not make vpcd chmod or overwrite a file elsewhere.
 */
#include "base/fs.h"

#include "base/base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fd's mode to want (permission bits only); logs what changed. */
static int fix_mode(int fd, const char *dir, const char *name, mode_t want)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if ((st.st_mode & 07777) == want)
		return 0;
	if (fchmod(fd, want) < 0) {
		log_error("fs", "%s/%s: cannot make it %04o: %s", dir, name, (unsigned)want, strerror(errno));
		return -1;
	}
	log_warn("fs", "%s%s%s was mode %04o; now %04o", dir, name[0] ? "/" : "", name,
		 (unsigned)(st.st_mode & 07777), (unsigned)want);
	return 0;
}

int fs_private_dir(const char *dir)
{
	if (mkdir(dir, FS_DIR_MODE) < 0 && errno != EEXIST) {
		log_error("fs", "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		log_error("fs", "%s: %s", dir, strerror(errno));
		return -1;
	}
	int rc = fix_mode(dfd, dir, "", FS_DIR_MODE);
	int lfd = dup(dfd);
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (!d) {
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		return -1;
	}
	struct dirent *ent;
	while ((ent = readdir(d))) {
		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile */
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
			continue;	/* links, sockets: not ours to change */
		mode_t want = S_ISDIR(st.st_mode) ? FS_DIR_MODE : FS_FILE_MODE;
		if ((st.st_mode & 07777) == want)
			continue;
		/* O_NOFOLLOW: it may have become a link since the fstatat */
		int fd = openat(dfd, ent->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
				(S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0 || fix_mode(fd, dir, ent->d_name, want) < 0)
			rc = -1;
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	close(dfd);
	return rc;
}

int fs_private_dir_chown(const char *dir, unsigned uid, unsigned gid)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fchown(dfd, uid, gid) < 0) {
		log_error("fs", "cannot give %s to uid %u: %s", dir, uid, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	int lfd = dup(dfd);
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (!d) {
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		return -1;
	}
	int rc = 0;
	struct dirent *ent;
	while ((ent = readdir(d))) {
		struct stat st;
		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..") ||
		    fstatat(dfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) || (st.st_uid == uid && st.st_gid == gid))
			continue;
		if (fchownat(dfd, ent->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
			log_error("fs", "cannot give %s/%s to uid %u: %s", dir, ent->d_name, uid, strerror(errno));
			rc = -1;
		}
	}
	closedir(d);
	close(dfd);
	return rc;
}

int fs_write_private(const char *path, const void *data, size_t len)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);	/* O_CREAT|O_EXCL, mode 0600 */
	if (fd < 0)
		return -1;
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		left -= (size_t)w;
	}
	if (fchmod(fd, FS_FILE_MODE) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	/* the rename itself durable: fsync the directory */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
fail:;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

char *fs_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	int bad = fstat(fd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : (size_t)st.st_size > max ? EFBIG : 0;
	if (bad) {
		close(fd);
		errno = bad;
		return NULL;
	}
	size_t cap = (size_t)st.st_size, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		abort();
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}
