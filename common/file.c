/*
 * file.c - whole files: reading with a ceiling, durable atomic writes
 * (file.h).
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "xmalloc.h"

int bw_write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int bw_file_write_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, bool replace, struct bw_error *err)
{
	char *tmp = xasprintf("%s" BW_FILE_TMP_MARK "XXXXXX", path);
	int fd, saved;

	if (!replace && access(path, F_OK) == 0) {
		free(tmp);
		errno = EEXIST;
		return bw_error_set(err, path, 0,
		                    "already exists (not overwritten)");
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		bw_error_set(err, path, 0, "cannot create a temporary file: %s",
		             strerror(errno));
		free(tmp);
		errno = saved;
		return -1;
	}
	/* mkostemp made it 0600; fchmod is not subject to the umask. */
	if (fchmod(fd, mode & 0777) < 0) {
		bw_error_set(err, path, 0, "chmod: %s", strerror(errno));
		goto fail;
	}
	if (bw_write_all(fd, data, len) < 0) {
		bw_error_set(err, path, 0, "write: %s", strerror(errno));
		goto fail;
	}
	if (fsync(fd) < 0) {
		bw_error_set(err, path, 0, "fsync: %s", strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		bw_error_set(err, path, 0, "close: %s", strerror(errno));
		goto fail;
	}
	fd = -1;
	if (replace) {
		if (rename(tmp, path) < 0) {
			bw_error_set(err, path, 0, "rename: %s",
			             strerror(errno));
			goto fail;
		}
	} else {
		/* link() fails with EEXIST rather than replace. */
		if (link(tmp, path) < 0) {
			if (errno == EEXIST)
				bw_error_set(err, path, 0,
				             "already exists (not overwritten)");
			else
				bw_error_set(err, path, 0, "link: %s",
				             strerror(errno));
			goto fail;
		}
		unlink(tmp);
	}
	if (bw_fsync_dir_of(path) < 0) {
		saved = errno;
		bw_error_set(err, path, 0, "fsync of its directory: %s",
		             strerror(errno));
		free(tmp);
		errno = saved;
		return -1;
	}
	free(tmp);
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

int bw_file_read(const char *path, size_t max, char **out, size_t *len,
		 struct bw_error *err)
{
	struct stat st;
	char *data = NULL;
	size_t have = 0, cap;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		saved = errno;
		bw_error_set(err, path, 0, "%s", strerror(errno));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		bw_error_set(err, path, 0, "stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		bw_error_set(err, path, 0, "not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		bw_error_set(err, path, 0, "larger than %zu bytes", max);
		goto fail;
	}
	/* The size may change under us: read to EOF, never past max. */
	cap = (size_t)st.st_size + 1;
	data = xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (have + 1 == cap) {
			if (have >= max) {
				char c;

				n = read(fd, &c, 1);
				if (n == 0)
					break;
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					bw_error_set(err, path, 0, "read: %s",
					             strerror(errno));
					goto fail;
				}
				errno = EFBIG;
				bw_error_set(err, path, 0,
				             "larger than %zu bytes", max);
				goto fail;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			data = xreallocarray(data, cap, 1);
		}
		n = read(fd, data + have, cap - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bw_error_set(err, path, 0, "read: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	data[have] = '\0';
	*out = data;
	*len = have;
	return 0;
fail:
	saved = errno;
	close(fd);
	free(data);
	errno = saved;
	return -1;
}
