/*
 * excerpt.c — a report's summary table as Markdown, made from its
 * summary.json alone: a sentence saying which run it is (date, commit,
 * machine, wall time, row counts), then one table line per row, with the
 * rows of a group (e.g. every real-KVM validation row) folded into one line
 * that counts them. The README's excerpt is this output for a committed
 * summary.json (tests/fixtures/report-summary.json), and a test regenerates
 * it, so the two cannot drift.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A Markdown table cell: '|' escaped, newlines as spaces. */
static void md_cell(FILE *f, const char *s)
{
	fputs("| ", f);
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s == '\n' ? ' ' : *s, f);
	}
	fputc(' ', f);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "?";
}

/* "5 min 3 s" or "42.0 s". */
static void duration(char *buf, size_t n, double s)
{
	if (s >= 60)
		snprintf(buf, n, "%d min %d s", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, n, "%.1f s", s);
}

/* Rows (of group, or all when NULL) by status: pass, fail, inconclusive
 * (measured; the measurement cannot decide), other (skipped or not run). */
typedef struct counts {
	size_t pass, fail, inconcl, other;
} counts;

static counts count(const json_t *rows, const char *group)
{
	counts c = { 0 };
	size_t i;
	const json_t *r;
	json_array_foreach((json_t *)rows, i, r)
	{
		const char *g = json_string_value(json_object_get(r, "group"));
		if (group && (!g || strcmp(g, group) != 0))
			continue;
		const char *st = str(r, "status");
		c.pass += strcmp(st, "pass") == 0;
		c.fail += strcmp(st, "fail") == 0;
		c.inconcl += strcmp(st, "inconclusive") == 0;
		c.other += !rpt_status_measured(st);
	}
	return c;
}

static void header(FILE *f, const json_t *doc)
{
	const json_t *p = json_object_get(doc, "provenance"), *rows = json_object_get(doc, "rows");
	counts c = count(rows, NULL);
	char wall[48];
	duration(wall, sizeof(wall), json_number_value(json_object_get(p, "wall_s")));
	int quick = json_is_true(json_object_get(doc, "quick"));
	fprintf(f,
		"From `virtlab report`%s on %s at commit %s%s (virtlab %s; %s, %lld CPUs, Linux "
		"%s, /dev/kvm: %s; seed %lld; %s): %zu rows, %zu pass, %zu fail, %zu "
		"inconclusive, %zu skipped or not run.\n\n",
		quick ? " --quick (shortened runs, not a reproduction)" : "", str(p, "date_utc"),
		str(p, "commit"),
		json_is_true(json_object_get(p, "dirty")) ? " (uncommitted changes)" : "",
		str(p, "version"), str(p, "cpu"),
		(long long)json_integer_value(json_object_get(p, "cpus_online")), str(p, "kernel"),
		str(p, "kvm"), (long long)json_integer_value(json_object_get(doc, "seed")), wall,
		json_array_size(rows), c.pass, c.fail, c.inconcl, c.other);
}

/* The basis of a group's rows: one word when they share it, else how many
 * rows have each ("2 fitted, 16 predicted"). */
static void group_basis(const json_t *rows, const char *group, char *buf, size_t n)
{
	static const char *const kinds[] = { "fitted", "predicted", "structural", "measured" };
	size_t cnt[4] = { 0 }, used = 0, i;
	const json_t *r;
	json_array_foreach((json_t *)rows, i, r)
	{
		const char *g = json_string_value(json_object_get(r, "group"));
		const char *b = json_string_value(json_object_get(r, "basis"));
		for (size_t k = 0; g && b && strcmp(g, group) == 0 && k < 4; k++)
			cnt[k] += strcmp(b, kinds[k]) == 0;
	}
	for (size_t k = 0; k < 4; k++)
		used += cnt[k] > 0;
	buf[0] = '\0';
	for (size_t k = 0, len = 0; k < 4; k++) {
		if (!cnt[k])
			continue;
		int m = used == 1 ? snprintf(buf, n, "%s", kinds[k])
				  : snprintf(buf + len, n - len, "%s%zu %s", len ? ", " : "",
					     cnt[k], kinds[k]);
		if (m < 0 || len + (size_t)m >= n)
			break;
		len += (size_t)m;
	}
}

/* One row, or the line standing for its whole group (printed at the
 * group's first row). */
static void row_line(FILE *f, const json_t *rows, const json_t *r, json_t *seen)
{
	char buf[512], src[512], line[1100];
	const char *group = json_string_value(json_object_get(r, "group"));
	if (group) {
		if (json_object_get(seen, group))
			return;
		json_object_set_new(seen, group, json_true());
		counts c = count(rows, group);
		md_cell(f, str(r, "system"));
		snprintf(line, sizeof(line), "%s (%zu rows)", group,
			 c.pass + c.fail + c.inconcl + c.other);
		md_cell(f, line);
		snprintf(line, sizeof(line), "per row (%s)",
			 rpt_format_source(r, src, sizeof(src)));
		md_cell(f, line);
		md_cell(f, "—");
		md_cell(f, "—");
		group_basis(rows, group, line, sizeof(line));
		md_cell(f, line);
		snprintf(line, sizeof(line), "%zu pass, %s%zu fail%s%s", c.pass, c.fail ? "**" : "",
			 c.fail, c.fail ? "**" : "", c.inconcl ? ", " : "");
		if (c.inconcl)
			snprintf(line + strlen(line), sizeof(line) - strlen(line),
				 "%zu inconclusive", c.inconcl);
		md_cell(f, line);
		fputs("|\n", f);
		return;
	}
	md_cell(f, str(r, "system"));
	md_cell(f, str(r, "figure"));
	rpt_format_target(r, buf, sizeof(buf));
	if (rpt_format_source(r, src, sizeof(src))[0])
		snprintf(line, sizeof(line), "%s (%s)", buf, src);
	else
		snprintf(line, sizeof(line), "%s", buf);
	md_cell(f, line);
	md_cell(f, rpt_format_ours(r, buf, sizeof(buf)));
	md_cell(f, rpt_format_error(r, buf, sizeof(buf)));
	const char *basis = json_string_value(json_object_get(r, "basis"));
	md_cell(f, basis ? basis : "—");
	const char *st = str(r, "status");
	snprintf(line, sizeof(line), "%s%s%s", strcmp(st, "pass") ? "**" : "", st,
		 strcmp(st, "pass") ? "**" : "");
	md_cell(f, line);
	fputs("|\n", f);
}

int rpt_excerpt(FILE *f, const json_t *doc, vl_errbuf *eb)
{
	const json_t *rows = json_object_get(doc, "rows");
	if (!json_is_array(rows) || !json_is_object(json_object_get(doc, "provenance")))
		return vl_fail(eb, VL_EINVAL,
			       "not a virtlab report summary: expected an object with \"rows\" "
			       "(an array) and \"provenance\"");
	json_t *seen = json_object();
	if (!seen)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	header(f, doc);
	fputs("| system | figure | target (source) | ours | error % | basis | status |\n"
	      "|---|---|---|---|---|---|---|\n",
	      f);
	size_t i;
	const json_t *r;
	json_array_foreach((json_t *)rows, i, r) row_line(f, rows, r, seen);
	json_decref(seen);
	fputs("\nError %: signed, in percent of the target's value, or of the nearest bound "
	      "when ours lies outside a range or bound; \"0 (inside)\" when inside; none for "
	      "structural rows. Inconclusive: measured, but the measurement cannot decide (the "
	      "real-KVM validation says so when this host's 95 % interval is wider than the goal "
	      "or its median is not above 0); counted neither as a pass nor as a fail.\n",
	      f);
	return ferror(f) ? vl_fail(eb, VL_EIO, "cannot write the excerpt") : 0;
}
