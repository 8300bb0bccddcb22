/*
 * file.c — checks shared by every loader of a user-named input file; see
 * file.h.
 */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

int vl_input_check(FILE *f, const char *path, vl_errbuf *eb)
{
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
		return vl_fail(eb, VL_EINVAL, "%s: is a directory; expected a file", path);
	return 0;
}

static int too_big(vl_errbuf *eb, const char *path, unsigned long long size, size_t max)
{
	return vl_fail(eb, VL_ERANGE, "%s: %llu bytes is over the limit of %zu bytes", path, size,
		       max);
}

/* "PATH:LINE: NUL byte at offset N: ..." for the first NUL in b at or after
 * from; 0 if there is none. */
static int nul_check(const vl_buf *b, size_t from, const char *path, const char *what,
		     vl_errbuf *eb)
{
	const char *nul = memchr(b->p + from, '\0', b->len - from);
	if (!nul)
		return 0;
	size_t at = (size_t)(nul - b->p), line = 1;
	for (const char *c = b->p; (c = memchr(c, '\n', (size_t)(nul - c))); c++)
		line++;
	return vl_fail(eb, VL_EINVAL, "%s:%zu: NUL byte at offset %zu: binary data, expected %s",
		       path, line, at, what);
}

/* Reads fd to its end into b, refusing more than max bytes and, when what is
 * not NULL (text), a NUL byte as soon as one arrives. */
static int read_all(int fd, const char *path, size_t max, const char *what, vl_buf *b,
		    vl_errbuf *eb)
{
	for (;;) {
		if (vl_buf_reserve(b, 65536) < 0)
			return vl_fail(eb, VL_ENOMEM, "%s: out of memory reading the file", path);
		size_t room = b->cap - b->len - 1;
		ssize_t r = read(fd, b->p + b->len, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return vl_fail(eb, VL_EIO, "%s: read failed: %s", path, strerror(errno));
		if (r == 0)
			return 0;
		size_t from = b->len;
		b->len += (size_t)r;
		b->p[b->len] = '\0';
		/* /dev/zero or a binary file: stop at once, not at the limit */
		if (what && nul_check(b, from, path, what, eb))
			return VL_EINVAL;
		if (b->len > max)
			return vl_fail(
				eb, VL_ERANGE,
				"%s: more than %zu bytes; that is over the limit of %zu bytes",
				path, max, max);
	}
}

static int read_file(const char *path, size_t max_bytes, const char *what, char **out, size_t *len,
		     vl_errbuf *eb)
{
	*out = NULL;
	if (len)
		*len = 0;
	int use_stdin = strcmp(path, "-") == 0;
	int fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vl_fail(eb, errno == ENOENT ? VL_ENOENT : VL_EIO, "%s: cannot open: %s",
			       path, strerror(errno));
	struct stat st;
	int rc = 0;
	vl_buf b = VL_BUF_INIT;
	if (fstat(fd, &st) < 0) {
		rc = vl_fail(eb, VL_EIO, "%s: cannot stat: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		rc = vl_fail(eb, VL_EINVAL, "%s: is a directory; expected a file", path);
	} else if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max_bytes) {
		rc = too_big(eb, path, (unsigned long long)st.st_size, max_bytes);
	} else {
		/* a regular file is read at its size in one go; the loop still
		 * checks, since the file may grow while we read it */
		if (S_ISREG(st.st_mode) && vl_buf_reserve(&b, (size_t)st.st_size) < 0)
			rc = vl_fail(eb, VL_ENOMEM, "%s: out of memory for %lld bytes", path,
				     (long long)st.st_size);
		else
			rc = read_all(fd, path, max_bytes, what, &b, eb);
	}
	if (!use_stdin)
		close(fd);
	if (rc < 0) {
		vl_buf_free(&b);
		return rc;
	}
	*out = vl_buf_detach(&b, len);
	if (!*out)
		return vl_fail(eb, VL_ENOMEM, "%s: out of memory", path);
	return 0;
}

int vl_read_file(const char *path, size_t max_bytes, char **out, size_t *len, vl_errbuf *eb)
{
	return read_file(path, max_bytes, NULL, out, len, eb);
}

int vl_read_text(const char *path, size_t max_bytes, const char *what, char **out, size_t *len,
		 vl_errbuf *eb)
{
	return read_file(path, max_bytes, what ? what : "text", out, len, eb);
}

struct vl_lines {
	int fd, use_stdin, eof;
	char *buf;            /* cap bytes: the unread text is buf[off..len) */
	size_t cap, off, len; /* cap = VL_LINES_CHUNK + max_line + 2 */
	size_t max_line;
	unsigned long long max_bytes, base, lineno; /* base: file offset of buf[0] */
	const char *path, *what;
};

int vl_lines_open(const char *path, size_t max_line, unsigned long long max_bytes, const char *what,
		  vl_lines **out, vl_errbuf *eb)
{
	vl_lines *r = calloc(1, sizeof(*r));
	int err;
	*out = NULL;
	if (!r || max_line > SIZE_MAX / 2 - VL_LINES_CHUNK) {
		free(r);
		return vl_fail(eb, VL_ENOMEM, "%s: out of memory", path);
	}
	r->use_stdin = strcmp(path, "-") == 0;
	r->fd = r->use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	r->path = path;
	r->what = what ? what : "text";
	r->max_line = max_line;
	r->max_bytes = max_bytes;
	r->cap = VL_LINES_CHUNK + max_line + 2;
	struct stat st;
	if (r->fd < 0) {
		err = vl_fail(eb, errno == ENOENT ? VL_ENOENT : VL_EIO, "%s: cannot open: %s", path,
			      strerror(errno));
	} else if (fstat(r->fd, &st) < 0) {
		err = vl_fail(eb, VL_EIO, "%s: cannot stat: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		err = vl_fail(eb, VL_EINVAL, "%s: is a directory; expected a file", path);
	} else if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max_bytes) {
		err = vl_fail(eb, VL_ERANGE, "%s: %llu bytes is over the limit of %llu bytes", path,
			      (unsigned long long)st.st_size, max_bytes);
	} else if (!(r->buf = malloc(r->cap))) {
		err = vl_fail(eb, VL_ENOMEM, "%s: out of memory", path);
	} else {
		*out = r;
		return 0;
	}
	vl_lines_close(r);
	return err;
}

/* Reads more text after buf[len) (moving the unread part to the front
 * first); refuses NUL bytes and streams past max_bytes. */
static int lines_fill(vl_lines *r, vl_errbuf *eb)
{
	if (r->off) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->base += r->off;
		r->len -= r->off;
		r->off = 0;
	}
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - 1 - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vl_fail(eb, VL_EIO, "%s:%llu: read failed: %s", r->path,
				       r->lineno + 1, strerror(errno));
		if (n == 0) {
			r->eof = 1;
			return 0;
		}
		const char *nul = memchr(r->buf + r->len, '\0', (size_t)n);
		if (nul) {
			unsigned long long line = r->lineno + 1;
			for (const char *c = r->buf; (c = memchr(c, '\n', (size_t)(nul - c))); c++)
				line++;
			return vl_fail(eb, VL_EINVAL,
				       "%s:%llu: NUL byte at offset %llu: binary data, expected %s",
				       r->path, line, r->base + (unsigned long long)(nul - r->buf),
				       r->what);
		}
		r->len += (size_t)n;
		if (r->base + r->len > r->max_bytes)
			return vl_fail(eb, VL_ERANGE,
				       "%s: more than %llu bytes; that is over the limit of %llu "
				       "bytes",
				       r->path, r->max_bytes, r->max_bytes);
		return 0;
	}
}

int vl_lines_next(vl_lines *r, char **line, unsigned long long *lineno, vl_errbuf *eb)
{
	for (;;) {
		char *s = r->buf + r->off;
		char *nl = memchr(s, '\n', r->len - r->off);
		size_t n = nl ? (size_t)(nl - s) : r->len - r->off;
		if (n > r->max_line)
			return vl_fail(eb, VL_EINVAL, "%s:%llu: line too long (over %zu bytes)",
				       r->path, r->lineno + 1, r->max_line);
		if (nl || (r->eof && n > 0)) {
			s[n] = '\0'; /* the '\n', or the spare byte after a last line */
			if (n && s[n - 1] == '\r')
				s[n - 1] = '\0';
			r->off += n + (nl != NULL);
			*line = s;
			*lineno = ++r->lineno;
			return 1;
		}
		if (r->eof)
			return 0;
		int err = lines_fill(r, eb);
		if (err)
			return err;
	}
}

unsigned long long vl_lines_offset(const vl_lines *r)
{
	return r->base + r->off;
}

void vl_lines_close(vl_lines *r)
{
	if (!r)
		return;
	if (r->fd >= 0 && !r->use_stdin)
		close(r->fd);
	free(r->buf);
	free(r);
}

int vl_mkdirs(const char *path, vl_errbuf *eb)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(tmp))
		return vl_fail(eb, VL_EINVAL, "bad directory name '%s': expected 1 to %zu bytes",
			       path, sizeof(tmp) - 1);
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char c = tmp[i];
		tmp[i] = '\0';
		struct stat st;
		if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
			return vl_fail(eb, VL_EIO, "cannot create directory %s: %s", tmp,
				       strerror(errno));
		if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
			return vl_fail(eb, VL_EIO, "cannot use %s: not a directory", tmp);
		tmp[i] = c;
	}
	return 0;
}

int vl_write_file_atomic(const char *path, const void *data, size_t len, vl_errbuf *eb)
{
	char tmp[4200];
	struct stat st;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return vl_fail(eb, VL_EIO, "cannot write %s: path too long", path);
	}
	/* renaming over /dev/null or a FIFO would replace it, not write to it */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return vl_fail(eb, VL_EIO, "cannot write %s: not a regular file", path);
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return vl_fail(eb, VL_EIO, "cannot write %s: %s", tmp, strerror(errno));
	const char *p = data;
	size_t left = len;
	int e = 0;
	while (left && !e) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = errno;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e) {
		unlink(tmp);
		errno = e; /* callers may still name the reason */
		return vl_fail(eb, VL_EIO, "cannot write %s: %s", path, strerror(e));
	}
	return 0;
}
