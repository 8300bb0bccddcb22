/*
 * file.c — checks shared by every loader of a user-named input file; see
 * file.h.
 */
#include "core/file.h"

#include <sys/stat.h>

int vl_input_check(FILE *f, const char *path, vl_errbuf *eb)
{
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
		return vl_fail(eb, VL_EINVAL, "%s: is a directory; expected a file", path);
	return 0;
}
