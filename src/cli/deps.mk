# The CLI's test of `make install` renders the generated man page with
# `man -l` (man-db; groff-base comes with it). Test-only: `make` needs neither.
TEST_DEB_DEPS += man-db
# tests/test_schema.c validates every command's --json output against
# docs/schema/ with tools/schema_check.py, which uses Debian's JSON Schema
# validator (run by /usr/bin/python3, the interpreter it installs into).
TEST_DEB_DEPS += python3-jsonschema
