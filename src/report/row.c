/*
 * row.c — one summary row: what it is compared with (the target: a value,
 * a range, a bound, or a value derived from another measurement of the
 * same run), where that target comes from (a section of the paper digests
 * in ../shared/papers/, the talk notes the project started from, or a
 * design goal of ours), ours with its unit, the basis of our number
 * (fitted, predicted, structural or measured, as the system reports it),
 * the error and the status.
 *
 * error_pct, one definition for every row: 100 * (ours - b) / |b|, signed,
 * where b is the target's value (kind "value", and "relative-to" with a
 * value), or, for a range or a bound, the nearest bound when ours lies
 * outside it. It is 0 only when ours lies inside the range or on the
 * allowed side of the bound (the page then says "0 (inside)", never a bare
 * 0 that would read as an exact match). It is null when the basis is
 * structural (the number follows from the mechanism's structure, so a
 * distance means nothing), when ours is not a number, and when b is 0 (a
 * relative distance to 0 is undefined).
 */
#include "report/report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rpt_target rpt_target_value(double value, const char *unit, const char *source)
{
	return (rpt_target){ .kind = RPT_T_VALUE,
			     .value = value,
			     .low = NAN,
			     .high = NAN,
			     .unit = unit,
			     .source = source,
			     .reference = NAN,
			     .accept_low = NAN,
			     .accept_high = NAN };
}

rpt_target rpt_target_range(double low, double high, const char *unit, const char *source)
{
	rpt_target t = rpt_target_value(NAN, unit, source);
	t.kind = RPT_T_RANGE;
	t.low = low;
	t.high = high;
	return t;
}

rpt_target rpt_target_bound(double low, double high, const char *unit, const char *source)
{
	rpt_target t = rpt_target_range(low, high, unit, source);
	t.kind = RPT_T_BOUND;
	return t;
}

static const char *const kind_names[] = { "value", "range", "bound", "relative-to" };

/* The number ours is measured against: the value, or the nearest bound
 * when ours is outside; *inside is set when ours satisfies a range/bound. */
static double reference_point(const rpt_target *t, double ours, int *inside)
{
	*inside = 0;
	if (isfinite(t->value))
		return t->value;
	if (isfinite(t->low) && ours < t->low)
		return t->low;
	if (isfinite(t->high) && ours > t->high)
		return t->high;
	*inside = isfinite(t->low) || isfinite(t->high);
	return NAN;
}

double rpt_error_pct(const rpt_target *t, double ours, const char *basis)
{
	if (!t || !isfinite(ours) || (basis && strcmp(basis, "structural") == 0))
		return NAN;
	int inside;
	double b = reference_point(t, ours, &inside);
	if (inside)
		return 0.0;
	if (!isfinite(b) || b == 0)
		return NAN;
	return 100.0 * (ours - b) / fabs(b);
}

int rpt_target_inside(const rpt_target *t, double ours)
{
	int inside;
	reference_point(t, ours, &inside);
	return inside;
}

/* A JSON number, or null for NAN. */
static json_t *num_or_null(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

json_t *rpt_target_json(const rpt_target *t)
{
	json_t *o = json_pack("{s:s}", "kind", kind_names[t->kind]);
	if (!o)
		return NULL;
	int bad = 0;
	if (t->kind == RPT_T_VALUE || isfinite(t->value))
		bad |= json_object_set_new(o, "value", num_or_null(t->value));
	if (t->kind == RPT_T_RANGE || t->kind == RPT_T_BOUND || isfinite(t->low) ||
	    isfinite(t->high)) {
		bad |= json_object_set_new(o, "low", num_or_null(t->low));
		bad |= json_object_set_new(o, "high", num_or_null(t->high));
	}
	bad |= json_object_set_new(o, "unit", t->unit ? json_string(t->unit) : json_null());
	bad |= json_object_set_new(o, "source", json_string(t->source ? t->source : "?"));
	if (t->source &&
	    (strncmp(t->source, "paper", 5) == 0 || strncmp(t->source, "seed notes", 10) == 0))
		bad |= json_object_set_new(o, "verified", json_boolean(!t->unverified));
	if (t->kind == RPT_T_RELATIVE) {
		bad |= json_object_set_new(o, "relative_to", json_string(t->relative_to));
		bad |= json_object_set_new(o, "reference", num_or_null(t->reference));
	}
	if (t->tolerance)
		bad |= json_object_set_new(o, "tolerance", json_string(t->tolerance));
	if (isfinite(t->accept_low) || isfinite(t->accept_high))
		bad |= json_object_set_new(o, "accept",
					   json_pack("{s:o,s:o}", "low", num_or_null(t->accept_low),
						     "high", num_or_null(t->accept_high)));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The row's legacy "paper" value, derived from the target: a number for a
 * value, [low, high] for a range, "> x" / "< x" for a bound. */
static json_t *legacy_paper(const rpt_target *t)
{
	if (isfinite(t->value))
		return json_real(t->value);
	if (isfinite(t->low) && isfinite(t->high))
		return json_pack("[f,f]", t->low, t->high);
	if (isfinite(t->low))
		return json_sprintf(">= %g", t->low);
	if (isfinite(t->high))
		return json_sprintf("<= %g", t->high);
	return json_null();
}

int rpt_sc_trow(rpt_sc *sc, const char *figure, const rpt_target *t, json_t *ours, const char *unit,
		const char *basis, int pass)
{
	double o = json_is_number(ours) ? json_number_value(ours) : NAN;
	int rc = rpt__add_row(sc, figure, legacy_paper(t), ours, rpt_error_pct(t, o, basis), pass,
			      pass ? "pass" : "fail", NULL);
	json_t *r = json_array_get(sc->rows, json_array_size(sc->rows) - 1);
	if (rc || !r)
		return rc ? rc : VL_ESTATE;
	if (json_object_set_new(r, "target", rpt_target_json(t)) ||
	    json_object_set_new(r, "unit", unit ? json_string(unit) : json_null()) ||
	    json_object_set_new(r, "basis", basis ? json_string(basis) : json_null()))
		return VL_ENOMEM;
	return 0;
}

int rpt_sc_trow_skipped(rpt_sc *sc, const char *figure, const rpt_target *t, const char *unit,
			const char *basis, const char *why)
{
	int rc = rpt__add_row(sc, figure, legacy_paper(t), NULL, NAN, 0, "skipped", why);
	json_t *r = json_array_get(sc->rows, json_array_size(sc->rows) - 1);
	if (rc || !r)
		return rc ? rc : VL_ESTATE;
	if (json_object_set_new(r, "target", rpt_target_json(t)) ||
	    json_object_set_new(r, "unit", unit ? json_string(unit) : json_null()) ||
	    json_object_set_new(r, "basis", basis ? json_string(basis) : json_null()))
		return VL_ENOMEM;
	return 0;
}

int rpt_sc_row_group(rpt_sc *sc, const char *group)
{
	json_t *r = json_array_get(sc->rows, json_array_size(sc->rows) - 1);
	if (!r)
		return VL_ESTATE;
	return json_object_set_new(r, "group", json_string(group)) ? VL_ENOMEM : 0;
}

/* ---- how a row is shown ---- */

static double num_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* x with its unit: "60.04 %", "90495 exits/s"; a "bool" as yes / no. */
static void with_unit(char *buf, size_t n, double x, const char *unit)
{
	if (unit && strcmp(unit, "bool") == 0) {
		snprintf(buf, n, "%s", x != 0 ? "yes" : "no");
		return;
	}
	char a[64];
	rpt__fmt_num(a, sizeof(a), x);
	snprintf(buf, n, "%s%s%s", a, unit && *unit ? " " : "", unit ? unit : "");
}

const char *rpt_format_target(const json_t *row, char *buf, size_t n)
{
	const json_t *t = json_object_get(row, "target");
	if (!json_is_object(t)) /* a row without a target: its legacy value */
		return rpt_format_value(json_object_get(row, "paper"), buf, n);
	const char *unit = json_string_value(json_object_get(t, "unit"));
	double v = num_of(t, "value"), lo = num_of(t, "low"), hi = num_of(t, "high");
	char a[256], b[64];
	if (isfinite(v)) {
		with_unit(a, sizeof(a), v, unit);
	} else if (isfinite(lo) && isfinite(hi)) {
		char c[96];
		rpt__fmt_num(b, sizeof(b), lo);
		with_unit(c, sizeof(c), hi, unit);
		snprintf(a, sizeof(a), "%s–%s", b, c);
	} else if (isfinite(lo) || isfinite(hi)) {
		char c[96];
		with_unit(c, sizeof(c), isfinite(lo) ? lo : hi, unit);
		snprintf(a, sizeof(a), "%s %s", isfinite(lo) ? "≥" : "≤", c);
	} else {
		snprintf(a, sizeof(a), "—");
	}
	const char *rel = json_string_value(json_object_get(t, "relative_to"));
	const char *tol = json_string_value(json_object_get(t, "tolerance"));
	snprintf(buf, n, "%s%s%s%s%s%s", a, rel ? " (" : "", rel ? rel : "", rel ? ")" : "",
		 tol ? ", tolerance " : "", tol ? tol : "");
	return buf;
}

const char *rpt_format_source(const json_t *row, char *buf, size_t n)
{
	const json_t *t = json_object_get(row, "target");
	const char *s = json_string_value(json_object_get(t, "source"));
	snprintf(buf, n, "%s%s", s ? s : "",
		 json_is_false(json_object_get(t, "verified")) ? " (recalled, unverified)" : "");
	return buf;
}

const char *rpt_format_ours(const json_t *row, char *buf, size_t n)
{
	const json_t *o = json_object_get(row, "ours");
	const char *unit = json_string_value(json_object_get(row, "unit"));
	if (json_is_number(o))
		with_unit(buf, n, json_number_value(o), unit);
	else
		rpt_format_value(o, buf, n);
	return buf;
}

const char *rpt_format_error(const json_t *row, char *buf, size_t n)
{
	const json_t *e = json_object_get(row, "error_pct");
	const json_t *t = json_object_get(row, "target");
	if (!json_is_number(e))
		return snprintf(buf, n, "—"), buf;
	double x = json_number_value(e);
	if (x == 0 && json_is_object(t) && !json_is_number(json_object_get(t, "value")))
		return snprintf(buf, n, "0 (inside)"), buf;
	char a[64];
	rpt__fmt_num(a, sizeof(a), x);
	snprintf(buf, n, "%s%s", x > 0 ? "+" : "", a);
	return buf;
}
