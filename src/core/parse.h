/*
 * parse.h — strict parsing of the numbers users type.
 *
 * Every parser takes the whole string (no trailing junk, no leading space,
 * no empty string), returns 0 or VL_EINVAL / VL_ERANGE, and on failure
 * writes one sentence into eb saying what was wrong and what was expected,
 * e.g. "'5x': unknown unit 'x'; expected ns, us, ms, s or m".
 *
 *   parse_u64      "42", "0x2a"            plain unsigned integer
 *   parse_i64      "-3", "0x10"            signed integer
 *   parse_count    "48k", "2M", "1.5G"     decimal multipliers (x1000)
 *   parse_size     "256K", "12M", "4096"   binary multipliers (x1024), bytes
 *   parse_double   "2.5", "1e-3"           finite real
 *   parse_duration "500ms", "2s", "10us"   seconds; a bare number is seconds
 *   parse_percent  "10%", "0.1"            fraction: "10%" -> 0.10; a bare
 *                                          number must be a fraction in [0,1]
 */
#ifndef VL_CORE_PARSE_H
#define VL_CORE_PARSE_H

#include <stdint.h>

#include "core/error.h"

int parse_u64(const char *s, uint64_t *out, vl_errbuf *eb);
int parse_i64(const char *s, int64_t *out, vl_errbuf *eb);
int parse_count(const char *s, uint64_t *out, vl_errbuf *eb);
int parse_size(const char *s, uint64_t *out, vl_errbuf *eb);
int parse_double(const char *s, double *out, vl_errbuf *eb);
int parse_duration(const char *s, double *seconds, vl_errbuf *eb);
int parse_percent(const char *s, double *fraction, vl_errbuf *eb);

/* A Linux CPU list ("0", "1-3", "0,2-3"; cpuset.cpus syntax) whose CPUs are
 * all below ncpus; checks only, the kernel parses it again. */
int parse_cpulist(const char *s, unsigned ncpus, vl_errbuf *eb);

/* Levenshtein distance, capped at 255; for "did you mean" suggestions. */
unsigned edit_distance(const char *a, const char *b);

/* The candidate closest to `word` (NULL-terminated list), or NULL if none is
 * within a third of the word's length (at least 2 edits). */
const char *closest_word(const char *word, const char *const *candidates);

#endif
