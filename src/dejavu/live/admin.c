/*
 * admin.c — the control plane's addresses, tokens and requests; see admin.h.
 */
#include "dejavu/live/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dejavu/live/net.h"

#define UNIX_PREFIX "unix:"

int dvadm_addr_parse(const char *s, dvadm_addr *a, vl_errbuf *eb)
{
	memset(a, 0, sizeof(*a));
	if (s && !strncmp(s, UNIX_PREFIX, strlen(UNIX_PREFIX))) {
		const char *p = s + strlen(UNIX_PREFIX);
		if (!*p || strlen(p) >= sizeof(a->path))
			return vl_fail(eb, VL_EINVAL, "'%s': expected unix:PATH, PATH 1..%zu bytes",
				       s, sizeof(a->path) - 1);
		a->is_unix = 1;
		snprintf(a->path, sizeof(a->path), "%s", p);
		return 0;
	}
	vl_errbuf why = { { 0 } };
	int err = dv_addr_parse(s, &a->in, &why);
	if (err)
		return vl_fail(eb, err, "%s, or unix:PATH", why.msg);
	if ((ntohl(a->in.sin_addr.s_addr) >> 24) != 127)
		return vl_fail(eb, VL_EINVAL,
			       "'%s': the admin listener must be on loopback (127.x.x.x) or a Unix "
			       "socket (unix:PATH)",
			       s);
	return 0;
}

char *dvadm_addr_str(const dvadm_addr *a, char *buf, size_t cap)
{
	if (a->is_unix)
		snprintf(buf, cap, UNIX_PREFIX "%s", a->path);
	else
		dv_addr_str(&a->in, buf, cap);
	return buf;
}

void dvadm_default_token_path(const dvadm_addr *a, char *buf, size_t cap)
{
	if (a->is_unix) {
		snprintf(buf, cap, "%s.token", a->path);
		return;
	}
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(buf, cap, "%s/virtlab-dejavu-admin-%u.token", dir, ntohs(a->in.sin_port));
}

int dvadm_token_check(const char *tok, vl_errbuf *eb)
{
	size_t n = strlen(tok);
	if (n < DVADM_TOKEN_MIN || n > DVADM_TOKEN_MAX)
		return vl_fail(eb, VL_EINVAL,
			       "the admin token must be %d to %d characters, not %zu",
			       DVADM_TOKEN_MIN, DVADM_TOKEN_MAX, n);
	for (size_t i = 0; i < n; i++) /* RFC 6750 token68 */
		if (!((tok[i] >= 'a' && tok[i] <= 'z') || (tok[i] >= 'A' && tok[i] <= 'Z') ||
		      (tok[i] >= '0' && tok[i] <= '9') || strchr("-._~+/=", tok[i])))
			return vl_fail(eb, VL_EINVAL,
				       "the admin token may hold only letters, digits and -._~+/= "
				       "(character %zu is not one)",
				       i + 1);
	return 0;
}

int dvadm_token_new(char tok[DVADM_TOKEN_MAX + 1], vl_errbuf *eb)
{
	unsigned char r[32];
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vl_fail(eb, VL_EIO, "getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(tok + 2 * i, 3, "%02x", r[i]);
	return 0;
}

int dvadm_token_write(const char *path, const char *tok, vl_errbuf *eb)
{
	/* a file of ours left by an earlier run on this port is replaced; in a
	 * sticky /tmp another user's file cannot be removed, and O_EXCL then
	 * refuses to write into it */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return vl_fail(eb, VL_EINVAL,
			       "admin token file %s is a directory; expected a file path", path);
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid())
		unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return vl_fail(eb, VL_EIO, "cannot create the admin token file %s: %s", path,
			       strerror(errno));
	size_t n = strlen(tok);
	int ok =
		fchmod(fd, 0600) == 0 && write(fd, tok, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
	int e = errno;
	if (close(fd) < 0 || !ok) {
		unlink(path);
		return vl_fail(eb, VL_EIO, "cannot write the admin token file %s: %s", path,
			       strerror(ok ? errno : e));
	}
	return 0;
}

int dvadm_token_read(const char *path, char tok[DVADM_TOKEN_MAX + 1], vl_errbuf *eb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vl_fail(eb, errno == ENOENT ? VL_ENOENT : VL_EIO,
			       "cannot read the admin token file %s: %s", path, strerror(errno));
	struct stat st;
	char buf[DVADM_TOKEN_MAX + 4];
	ssize_t n = fstat(fd, &st) == 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	if (n < 0)
		return vl_fail(eb, VL_EIO, "cannot read the admin token file %s", path);
	if (st.st_mode & 077)
		return vl_fail(eb, VL_EINVAL,
			       "the admin token file %s may be read by others (mode %03o); "
			       "chmod 600 it",
			       path, (unsigned)(st.st_mode & 0777));
	/* as ssh with keys: the owner must be us or root — in a shared /tmp
	 * another user could plant a file at the default path (and listen on
	 * the admin port before the proxy), steering the controller */
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return vl_fail(eb, VL_EINVAL,
			       "the admin token file %s belongs to uid %u, neither you nor root; "
			       "pass the token in $%s instead",
			       path, (unsigned)st.st_uid, DVADM_TOKEN_ENV);
	buf[n] = '\0';
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
		buf[--n] = '\0';
	vl_errbuf why = { { 0 } };
	if (dvadm_token_check(buf, &why))
		return vl_fail(eb, VL_EINVAL, "%s: %s", path, why.msg);
	memcpy(tok, buf, (size_t)n + 1);
	return 0;
}

int dvadm_token_find(dvadm *a, const char *file, vl_errbuf *eb)
{
	if (file)
		return dvadm_token_read(file, a->token, eb);
	const char *env = getenv(DVADM_TOKEN_ENV);
	if (env && *env) {
		vl_errbuf why = { { 0 } };
		if (dvadm_token_check(env, &why))
			return vl_fail(eb, VL_EINVAL, "$%s: %s", DVADM_TOKEN_ENV, why.msg);
		snprintf(a->token, sizeof(a->token), "%s", env);
		return 0;
	}
	char path[DVADM_PATH_MAX + 64];
	dvadm_default_token_path(&a->addr, path, sizeof(path));
	int err = dvadm_token_read(path, a->token, eb);
	if (err == VL_ENOENT)
		return vl_fail(eb, err,
			       "no admin token: %s does not exist; give --admin-token-file or "
			       "$%s",
			       path, DVADM_TOKEN_ENV);
	return err;
}

/* A Unix socket path that exists: in use (someone accepts) or stale. */
static int unix_in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int used = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return used;
}

static int unix_connect(const char *path, double timeout_s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { (time_t)timeout_s,
			      (suseconds_t)((timeout_s - (double)(time_t)timeout_s) * 1e6) };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int dvadm_listen(const dvadm_addr *a, int *port_out, vl_errbuf *eb)
{
	if (!a->is_unix) {
		if ((ntohl(a->in.sin_addr.s_addr) >> 24) != 127)
			return vl_fail(eb, VL_EINVAL, "the admin listener must be on loopback");
		return dv_listen(&a->in, 64, port_out, eb);
	}
	if (port_out)
		*port_out = 0;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", a->path);
	struct stat st;
	if (lstat(a->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || unix_in_use(&sun))
			return vl_fail(eb, VL_EIO, "cannot listen on unix:%s: %s", a->path,
				       S_ISSOCK(st.st_mode)
					       ? "another process listens there"
					       : "a file that is not a socket is there");
		unlink(a->path); /* stale: its server is gone */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vl_fail(eb, VL_EIO, "socket: %s", strerror(errno));
	/* mode 0600 before listen(): nobody else can connect in between */
	if (bind(fd, (const struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(a->path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		return vl_fail(eb, VL_EIO, "cannot listen on unix:%s: %s", a->path, strerror(e));
	}
	return fd;
}

int dvadm_request(const dvadm *a, const char *method, const char *path, const char *body,
		  double timeout_s, char *buf, size_t cap)
{
	int fd = a->addr.is_unix ? unix_connect(a->addr.path, timeout_s)
				 : dv_connect_block(&a->addr.in, timeout_s);
	if (fd < 0)
		return VL_EIO;
	char hdr[DVADM_TOKEN_MAX + 40];
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", a->token);
	return dv_http_exchange(fd, method, path, hdr, body, buf, cap);
}
