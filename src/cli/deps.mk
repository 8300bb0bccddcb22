# The CLI's test of `make install` renders the generated man page with
# `man -l` (man-db; groff-base comes with it). Test-only: `make` needs neither.
TEST_DEB_DEPS += man-db
