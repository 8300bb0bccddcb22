/*
 * out.h — one result, three renderings.
 *
 * Every experiment builds its result as a jansson json_t; out_emit prints it
 * as JSON (one document), CSV, or aligned text for people:
 *  - JSON: keys in insertion order, reals with 10 significant digits
 *    (stable across runs and compilers), indented two spaces, one trailing
 *    newline.
 *  - CSV (RFC 4180 quoting), losing nothing: every table of the document
 *    (an array of objects, at any depth) as a header plus a line per
 *    element, in document order; the first bare, each later one after a
 *    blank line and "# table: PATH" (its dotted key, "moderation_sweep");
 *    then every other value as "key,value" lines with nested keys dotted
 *    ("exits_by_reason.HLT") — under "# table: (values)" when tables came
 *    first, alone otherwise. Reals at full precision: the shortest "%.Ng"
 *    that reads back as the same double (25479296, 0.1).
 *  - text: arrays of objects become aligned tables, objects become aligned
 *    "key  value" lines, nested objects indented.
 * The output goes to the FILE given; library code calls this only with a
 * stream the CLI handed it.
 *
 * tbl: the aligned-table builder the text renderer (and bench) use.
 */
#ifndef VL_CORE_OUT_H
#define VL_CORE_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "core/error.h"

typedef enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV } out_format;

/* Returns 0, VL_EIO on a write error, VL_EINVAL for a NULL result. */
int out_emit(FILE *f, const json_t *result, out_format fmt);

/* Writes s as one CSV field (quoted when it holds , " CR or LF). */
void out_csv_field(FILE *f, const char *s);

/* A JSON number, or null where v is NaN or infinite (which jansson refuses:
 * a result with no samples must still print). A new reference. */
json_t *out_num(double v);

/* The value at a dotted path ("a.b.c": keys of nested objects) in o, or NULL
 * when a step is missing, not an object, or a key is over 255 bytes. A
 * borrowed reference. */
const json_t *out_lookup(const json_t *o, const char *path);

/* Formats a JSON scalar for text: integers as is, reals with up to 6
 * significant digits (%.6g), true/false, null as "". Returns buf. (CSV
 * prints reals at full precision instead.) */
const char *out_scalar(const json_t *v, char *buf, size_t n);

/* Writes doc to the file path as JSON text: json_dumps with flags (e.g.
 * JSON_INDENT(2) | JSON_PRESERVE_ORDER), then one newline, as a text file
 * ends. Atomic (vl_write_file_atomic): a reader sees the old file or the new
 * one. 0; VL_ENOMEM when doc is NULL (a failed json_pack) or cannot be
 * serialised, naming path in eb; VL_EIO from the write. */
int out_write_json(const char *path, const json_t *doc, size_t flags, vl_errbuf *eb);

typedef struct tbl tbl;

/* A table with ncols columns and these headers (copied). NULL on ENOMEM. */
tbl *tbl_create(size_t ncols, const char *const *headers);
void tbl_destroy(tbl *t); /* accepts NULL */
/* Appends a row of ncols strings (copied). 0 or VL_ENOMEM. */
int tbl_add(tbl *t, const char *const *cells);
/* Aligned text: numbers right-aligned, text left-aligned, header rule. */
void tbl_print(const tbl *t, FILE *f);
void tbl_print_csv(const tbl *t, FILE *f);

#endif
