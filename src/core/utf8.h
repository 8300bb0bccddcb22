/*
 * utf8.h — UTF-8 validation for text that is later printed as a string.
 *
 * JSON (jansson) takes only valid UTF-8: a stray byte in a name read from a
 * file made `json_string` return NULL, which surfaced as "out of memory
 * building the result" or a silently missing field. Loaders check such
 * values with vl_utf8_check and refuse them with the line and column.
 * Validity is RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF.
 */
#ifndef VL_CORE_UTF8_H
#define VL_CORE_UTF8_H

#include <stddef.h>

/* Checks the NUL-terminated s. Returns 0 if it is valid UTF-8, else 1 with
 * *bad (if not NULL) the byte offset of the first byte of the first invalid
 * sequence. */
int vl_utf8_check(const char *s, size_t *bad);

/* Display width of the valid UTF-8 string s in terminal columns, counting one
 * column per code point (the tables' characters: letters, digits, "≤", "–",
 * "µ"; no wide East Asian or combining characters are printed by virtlab).
 * Used to align text tables, where strlen would count "≤" as three. */
size_t vl_utf8_width(const char *s);

#endif
