/*
 * html.c — DIR/index.html: one page (inline CSS and script; the plots are
 * SVG files in the folders beside it, so copy the whole directory; no
 * network) with, for a --quick run, a banner across the top saying the
 * numbers come from shortened runs; the summary table (the same rows as
 * summary.json, rows from shortened runs marked); the stage table; a section
 * per system with its plots and the commands that made them; and the
 * provenance: build (version, commit, compiler, flags), machine, seeds,
 * date and wall time.
 *
 * A small inline script counts the plots that loaded and writes the count
 * into #img-check, so a reader (and the headless-browser test) sees a
 * broken image at once.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *system, *title, *paper;
} sections[] = {
	{ "eli", "ELI — exitless interrupts",
	  "Gordon et al., ELI: Bare-Metal Performance for I/O Virtualization, ASPLOS 2012" },
	{ "hyperwall", "HyperWall — hypervisor-secure VM memory",
	  "Szefer and Lee, Architectural Support for Hypervisor-Secure Virtualization, ASPLOS "
	  "2012" },
	{ "regsched", "Region scheduling — page-level LLC affinity",
	  "Lee and Schwan, Region Scheduling: Efficiently Using the Cache Architectures via "
	  "Page-level Affinity, ASPLOS 2012" },
	{ "dejavu", "DejaVu — memoized resource allocation",
	  "Vasić et al., DejaVu: Accelerating Resource Allocation in Virtualized Environments, "
	  "ASPLOS 2012" },
	{ "core", "Foundation — the discrete-event core", "queueing theory (M/M/1)" },
};

static const char css[] =
	"body{font:15px/1.45 'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em auto;"
	"max-width:1100px;padding:0 1em;color:#1a1a1a;background:#fff}"
	"h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;"
	"padding-bottom:.2em;margin-top:2em}h3{margin-bottom:.3em}"
	"table{border-collapse:collapse;margin:.8em 0;font-size:.92em}"
	"th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}"
	"th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}"
	"tr.pass td.st{background:#dff3df;color:#155d15;font-weight:bold}"
	"tr.fail td.st{background:#fbe0e0;color:#8a1010;font-weight:bold}"
	"tr.inconclusive td.st{background:#fdf3d0;color:#6b5200;font-weight:bold}"
	"tr.skipped td.st{background:#f0f0f0;color:#555;font-style:italic}"
	"tr.stagefailed td.st{background:#8a1010;color:#fff;font-weight:bold}"
	".ok{color:#155d15}.failed,.bad{color:#8a1010;font-weight:bold}.skipped{color:#666}"
	".inconclusive{color:#6b5200}"
	"td.note{color:#555;font-size:.9em;max-width:28em}"
	"td.target{max-width:22em}span.src{color:#555;font-size:.85em}"
	"figure{margin:1em 0;display:inline-block;vertical-align:top;max-width:100%}"
	"figure img{width:760px;max-width:100%;border:1px solid #e3e3e3}"
	"figcaption,p.tcap{font-size:.88em;color:#444;max-width:760px}"
	"table.data caption{font-weight:bold;text-align:left;padding-bottom:.3em}"
	"code{background:#f5f5f5;padding:0 .25em;font-size:.9em}"
	".cmds code{display:block;margin:.1em 0;white-space:pre-wrap}"
	".meta{color:#444}"
	"#quick-banner{background:#b35900;color:#fff;font-weight:bold;font-size:1.15em;"
	"padding:.7em 1em;margin:0 0 1em;border:3px solid #5c2e00}"
	"span.shortened{font-size:.8em;font-weight:bold;color:#b35900;white-space:nowrap}";

static const char img_script[] =
	"<script>window.addEventListener('load',function(){var im=document.images,ok=0,"
	"bad=[];for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;"
	"else bad.push(im[i].getAttribute('src'));}var e=document.getElementById('img-check');"
	"e.textContent=ok+' of '+im.length+' plots loaded'+(bad.length?'; broken: '+"
	"bad.join(', '):'');e.className=bad.length?'bad':'ok';e.setAttribute('data-loaded',ok);"
	"e.setAttribute('data-total',im.length);});</script>\n";

void rpt__html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* 4 significant digits, but large values as whole numbers (99691, not
 * 9.969e+04: rates are read as counts). */
void rpt__fmt_num(char *buf, size_t n, double x)
{
	snprintf(buf, n, fabs(x) >= 1e4 && fabs(x) < 1e15 ? "%.0f" : "%.4g", x);
}

const char *rpt_format_value(const json_t *v, char *buf, size_t n)
{
	const json_t *lo = json_array_get(v, 0), *hi = json_array_get(v, 1);
	if (json_is_number(v))
		rpt__fmt_num(buf, n, json_number_value(v));
	else if (json_is_array(v) && json_array_size(v) == 2 && json_is_number(lo) &&
		 json_is_number(hi)) {
		char a[64], b[64];
		rpt__fmt_num(a, sizeof(a), json_number_value(lo));
		rpt__fmt_num(b, sizeof(b), json_number_value(hi));
		snprintf(buf, n, "%s–%s", a, b);
	} else if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_null(v) || !v)
		snprintf(buf, n, "—");
	else {
		char *d = json_dumps(v, JSON_COMPACT);
		snprintf(buf, n, "%s", d ? d : "?");
		free(d);
	}
	return buf;
}

/* A summary cell, numbers right-aligned. */
static void cell_value(FILE *f, const json_t *v)
{
	char buf[512];
	fprintf(f, "<td%s>", json_is_string(v) ? "" : " class=\"num\"");
	rpt__html_text(f, rpt_format_value(v, buf, sizeof(buf)));
	fputs("</td>", f);
}

/* --seeds N: the row's 95 % interval and how many seeds pass. */
static void cell_spread(FILE *f, const json_t *r)
{
	const json_t *ci = json_object_get(r, "ci95"), *n = json_object_get(r, "seeds");
	char a[64], b[64];
	fputs("<td class=\"num\">", f);
	if (json_array_size(ci) == 2) {
		rpt__html_text(f, rpt_format_value(json_array_get(ci, 0), a, sizeof(a)));
		fputs(" – ", f);
		rpt__html_text(f, rpt_format_value(json_array_get(ci, 1), b, sizeof(b)));
	} else {
		fputs("—", f);
	}
	if (json_is_integer(n))
		fprintf(f, " (%lld of %lld)",
			(long long)json_integer_value(json_object_get(r, "seeds_passing")),
			(long long)json_integer_value(n));
	fputs("</td>", f);
}

/* A cell of plain text (class cls, or none). */
static void cell_text(FILE *f, const char *cls, const char *text)
{
	fprintf(f, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	rpt__html_text(f, text);
	fputs("</td>", f);
}

/* The target cell: the target, then its source on a line of its own. */
static void cell_target(FILE *f, const json_t *r)
{
	char t[512], s[512];
	fputs("<td class=\"target\">", f);
	rpt__html_text(f, rpt_format_target(r, t, sizeof(t)));
	if (rpt_format_source(r, s, sizeof(s))[0]) {
		fputs("<br><span class=\"src\">", f);
		rpt__html_text(f, s);
		fputs("</span>", f);
	}
	fputs("</td>", f);
}

static void summary_table(FILE *f, const json_t *rows, int seeds)
{
	fprintf(f,
		"<table id=\"summary-table\"><thead><tr><th>system</th><th>figure</th>"
		"<th>target (source)</th><th>ours%s</th><th>error %%</th><th>basis</th>"
		"<th>status%s</th>%s<th>note</th></tr></thead><tbody>\n",
		seeds ? " (mean)" : "", seeds ? " (of the mean)" : "",
		seeds ? "<th>95 % interval (seeds passing)</th>" : "");
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *st = json_string_value(json_object_get(r, "status"));
		char cls[32], buf[512];
		snprintf(cls, sizeof(cls), "%s", st ? st : "");
		char *sp = strchr(cls, ' ');
		if (sp)
			memmove(sp, sp + 1, strlen(sp)); /* "stage failed" -> "stagefailed" */
		fprintf(f, "<tr class=\"%s\"><td>", cls);
		rpt__html_text(f, json_string_value(json_object_get(r, "system")));
		fputs("</td><td>", f);
		rpt__html_text(f, json_string_value(json_object_get(r, "figure")));
		if (json_is_true(json_object_get(r, "shortened_run")))
			fputs(" <span class=\"shortened\" title=\"measured on a shortened --quick "
			      "run\">[quick run]</span>",
			      f);
		fputs("</td>", f);
		cell_target(f, r);
		cell_text(f, "num", rpt_format_ours(r, buf, sizeof(buf)));
		cell_text(f, "num", rpt_format_error(r, buf, sizeof(buf)));
		const char *basis = json_string_value(json_object_get(r, "basis"));
		cell_text(f, NULL, basis ? basis : "—");
		cell_text(f, "st", st);
		if (seeds)
			cell_spread(f, r);
		const char *note = json_string_value(json_object_get(r, "note"));
		cell_text(f, "note", note ? note : "");
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

static void stage_table(FILE *f, rpt_sc *const *scs, size_t n)
{
	fputs("<table id=\"stage-table\"><thead><tr><th>stage</th><th>system</th><th>status</th>"
	      "<th>wall s</th><th>reason</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f,
			"<tr><td><a href=\"#stage-%s\">%s</a></td><td>%s</td>"
			"<td class=\"%s\">%s</td><td class=\"num\">%.1f</td><td>",
			scs[i]->st->name, scs[i]->st->name, scs[i]->st->system, scs[i]->status,
			scs[i]->status, scs[i]->wall_s);
		rpt__html_text(f, scs[i]->reason);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

/* A stage's table of numbers (rpt_sc_table): its cells as the page shows
 * numbers, the caption and a link to its CSV; its id is the CSV's stem. */
static void data_table(FILE *f, const json_t *t)
{
	const char *csv = json_string_value(json_object_get(t, "csv"));
	const char *slash = strrchr(csv, '/');
	size_t n = strlen(slash ? slash + 1 : csv);
	fprintf(f, "<table class=\"data\" id=\"table-%.*s\"><caption>", (int)(n - 4),
		slash ? slash + 1 : csv);
	rpt__html_text(f, json_string_value(json_object_get(t, "title")));
	json_int_t seeds = json_integer_value(json_object_get(t, "seeds"));
	if (seeds > 1)
		fprintf(f, " (mean of %lld seeds)", (long long)seeds);
	fputs("</caption><thead><tr>", f);
	size_t i, j;
	const json_t *h, *r, *c;
	json_array_foreach(json_object_get(t, "headers"), i, h)
	{
		fputs("<th>", f);
		rpt__html_text(f, json_string_value(h));
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>\n", f);
	json_array_foreach(json_object_get(t, "rows"), i, r)
	{
		fputs("<tr>", f);
		json_array_foreach(r, j, c)
		{
			char buf[64];
			fputs(j ? "<td class=\"num\">" : "<td>", f);
			rpt__html_text(f, j ? rpt_format_value(c, buf, sizeof(buf))
					    : json_string_value(c));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n<p class=\"tcap\">", f);
	rpt__html_text(f, json_string_value(json_object_get(t, "caption")));
	fputs(" <a href=\"", f);
	rpt__html_text(f, csv);
	fputs("\">data (CSV)</a></p>\n", f);
}

static void stage_section(FILE *f, const rpt_sc *sc)
{
	fprintf(f, "<h3 id=\"stage-%s\">", sc->st->name);
	rpt__html_text(f, sc->st->title);
	fprintf(f, " <span class=\"%s\">[%s]</span></h3>\n<p>", sc->status, sc->status);
	rpt__html_text(f, sc->st->about);
	fputs("</p>\n", f);
	if (sc->reason[0]) {
		fprintf(f, "<p class=\"%s\">", sc->status);
		rpt__html_text(f, sc->reason);
		fputs("</p>\n", f);
	}
	if (sc->nseeds > 1)
		fprintf(f,
			"<div class=\"cmds\">Commands run (each with <code "
			"style=\"display:inline\">--json --quiet --seed S</code>, S = %llu to "
			"%llu):",
			(unsigned long long)sc->o->seed,
			(unsigned long long)(sc->o->seed + sc->nseeds - 1));
	else
		fprintf(f,
			"<div class=\"cmds\">Commands run (each with <code "
			"style=\"display:inline\">--json --quiet --seed %llu</code>):",
			(unsigned long long)sc->o->seed);
	for (size_t i = 0; i < sc->plan.n; i++) {
		fputs("<code>virtlab ", f);
		rpt__html_text(f, sc->plan.cmd[i]);
		fputs("</code>", f);
	}
	fputs("</div>\n", f);
	size_t i;
	const json_t *v;
	json_array_foreach(sc->notes, i, v)
	{
		fputs("<p>", f);
		rpt__html_text(f, json_string_value(v));
		fputs("</p>\n", f);
	}
	json_array_foreach(sc->plots, i, v)
	{
		fputs("<figure><img src=\"", f);
		rpt__html_text(f, json_string_value(json_object_get(v, "svg")));
		fputs("\" alt=\"", f);
		rpt__html_text(f, json_string_value(json_object_get(v, "title")));
		fputs("\"><figcaption>", f);
		rpt__html_text(f, json_string_value(json_object_get(v, "caption")));
		fputs(" <a href=\"", f);
		rpt__html_text(f, json_string_value(json_object_get(v, "csv")));
		fputs("\">data (CSV)</a></figcaption></figure>\n", f);
	}
	json_array_foreach(sc->tables, i, v) data_table(f, v);
}

/* Build, machine, seeds, date and wall time: summary.json's "provenance",
 * then the rest of "machine" (memory, OS, gnuplot). */
static void provenance_table(FILE *f, const json_t *prov, const json_t *m, double wall)
{
	fputs("<h2 id=\"machine\">Provenance: build, machine and time</h2>\n"
	      "<table id=\"machine-table\">",
	      f);
	const char *k;
	const json_t *v;
	for (int pass = 0; pass < 2; pass++)
		json_object_foreach((json_t *)(pass ? m : prov), k, v)
		{
			if (strcmp(k, "wall_s") == 0 || (pass && json_object_get(prov, k)))
				continue;
			fputs("<tr><th>", f);
			rpt__html_text(f, k);
			fputs("</th>", f);
			if (json_is_array(v) && json_array_size(v) == 1) /* seeds: [1] */
				cell_value(f, json_array_get(v, 0));
			else
				cell_value(f, v);
			fputs("</tr>", f);
		}
	fprintf(f, "<tr><th>wall time</th><td class=\"num\" id=\"wall\">%.1f s</td></tr></table>\n",
		wall);
}

/* The --quick banner: first thing on the page, impossible to miss. */
static void quick_banner(FILE *f, rpt_sc *const *scs, size_t n)
{
	size_t shortened = 0, skipped = 0;
	for (size_t i = 0; i < n; i++) {
		shortened += scs[i]->shortened && strcmp(scs[i]->status, "ok") == 0;
		skipped += strcmp(scs[i]->status, "skipped") == 0;
	}
	fprintf(f,
		"<div id=\"quick-banner\" role=\"alert\">QUICK RUN — not a reproduction. "
		"%zu stage%s ran on shortened runs (rows marked [quick run]) and %zu live or KVM "
		"stage%s %s skipped; numbers can differ a lot from the full run. Run "
		"<code>virtlab report</code> without --quick (or <code>make run</code>) for the "
		"real result.</div>\n",
		shortened, shortened == 1 ? "" : "s", skipped, skipped == 1 ? "" : "s",
		skipped == 1 ? "was" : "were");
}

/* What each row status means, under the summary's introduction. */
static void status_legend(FILE *f)
{
	fputs("<p id=\"status-legend\">Status: <span class=\"ok\">pass</span> — ours meets the "
	      "target's tolerance; <span class=\"failed\">fail</span> — it does not; <span "
	      "class=\"inconclusive\">inconclusive</span> — measured, but the measurement cannot "
	      "decide (the real-KVM validation says so when this host's 95 % interval is wider "
	      "than the goal, or its median is not above 0), so the row counts neither as a pass "
	      "nor as a fail; <span class=\"skipped\">skipped</span> — left out on purpose "
	      "(--quick, or the host cannot run it); stage failed — the stage did not run.</p>\n",
	      f);
}

int rpt__write_html(const char *dir, const json_t *doc, rpt_sc *const *scs, size_t n, vl_errbuf *eb)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/index.html", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return vl_fail(eb, VL_EIO, "cannot write %s", path);
	const json_t *rows = json_object_get(doc, "rows");
	size_t np = 0, nf = 0, ni = 0, ns = 0, nsf = 0, i;
	const json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *st = json_string_value(json_object_get(r, "status"));
		np += strcmp(st, "pass") == 0;
		nf += strcmp(st, "fail") == 0;
		ni += strcmp(st, "inconclusive") == 0;
		ns += strcmp(st, "skipped") == 0;
		nsf += strcmp(st, "stage failed") == 0;
	}
	const json_t *m = json_object_get(doc, "machine");
	double wall = json_number_value(json_object_get(doc, "wall_s"));
	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>virtlab report</title>\n<style>%s</style></head><body>\n",
		css);
	if (json_is_true(json_object_get(doc, "quick")))
		quick_banner(f, scs, n);
	fputs("<h1>virtlab report: four ASPLOS 2012 virtualization systems, reproduced</h1>\n"
	      "<p class=\"meta\">",
	      f);
	rpt__html_text(f, json_string_value(json_object_get(m, "date_utc")));
	fputs(" on ", f);
	rpt__html_text(f, json_string_value(json_object_get(m, "cpu")));
	const json_t *prov = json_object_get(doc, "provenance");
	long long seed = (long long)json_integer_value(json_object_get(doc, "seed"));
	long long nseeds = (long long)json_integer_value(json_object_get(doc, "seeds"));
	fprintf(f, " (%lld CPUs) · %s run · ",
		(long long)json_integer_value(json_object_get(m, "cpus_online")),
		json_is_true(json_object_get(doc, "quick")) ? "--quick" : "full");
	if (nseeds > 1)
		fprintf(f, "seeds %lld to %lld (mean and 95 %% interval)", seed, seed + nseeds - 1);
	else
		fprintf(f, "seed %lld", seed);
	fprintf(f, " · wall time %.1f s · virtlab ", wall);
	rpt__html_text(f, json_string_value(json_object_get(prov, "version")));
	fputs(", commit ", f);
	rpt__html_text(f, json_string_value(json_object_get(prov, "commit")));
	fprintf(f, "%s</p>\n",
		json_is_true(json_object_get(prov, "dirty")) ? " with uncommitted changes" : "");
	fprintf(f,
		"<p id=\"totals\"><b>%zu rows:</b> <span class=\"ok\">%zu pass</span>, "
		"<span class=\"failed\">%zu fail</span>, <span class=\"inconclusive\">%zu "
		"inconclusive</span>, <span class=\"skipped\">%zu skipped</span>, <span "
		"class=\"failed\">%zu from failed stages</span>.</p>\n",
		json_array_size(rows), np, nf, ni, ns, nsf);
	fputs("<p id=\"img-check\">plots not checked (scripts off)</p>\n", f);
	fputs("<h2 id=\"summary\">Summary: targets vs ours</h2>\n<p>Each row is a headline figure: "
	      "its target (a value, a range, a bound, or a value relative to another measurement "
	      "of this run) and where the target comes from — a passage of the paper digests "
	      "(<i>paper</i>: published text; <i>seed notes</i>: notes from the conference talk), "
	      "or our <i>design goal</i> —, ours with its unit, the error, the basis of our "
	      "number (<i>fitted</i> to a target, <i>predicted</i> by the model without fitting, "
	      "<i>structural</i>: it follows from the mechanism, <i>measured</i> on this host) and "
	      "the status. Error %: signed, in percent of the target's value, or of the nearest "
	      "bound when ours lies outside a range or bound; “0 (inside)” when ours lies inside "
	      "it; none for structural rows. The same rows are in <a href=\"summary.json\">"
	      "summary.json</a>.</p>\n",
	      f);
	status_legend(f);
	summary_table(f, rows, json_integer_value(json_object_get(doc, "seeds")) > 1);
	fputs("<h2 id=\"stages\">Stages</h2>\n", f);
	stage_table(f, scs, n);
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		int any = 0;
		for (size_t k = 0; k < n; k++)
			any |= strcmp(scs[k]->st->system, sections[s].system) == 0;
		if (!any)
			continue;
		fprintf(f, "<h2 id=\"sys-%s\">", sections[s].system);
		rpt__html_text(f, sections[s].title);
		fputs("</h2>\n<p class=\"meta\">Reference: ", f);
		rpt__html_text(f, sections[s].paper);
		fputs("</p>\n", f);
		for (size_t k = 0; k < n; k++)
			if (strcmp(scs[k]->st->system, sections[s].system) == 0)
				stage_section(f, scs[k]);
	}
	provenance_table(f, prov, m, wall);
	fputs(img_script, f);
	fputs("</body></html>\n", f);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return vl_fail(eb, VL_EIO, "cannot write %s", path);
	return 0;
}
