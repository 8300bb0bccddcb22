/*
 * des.h — the discrete-event simulation engine every timing model runs on.
 *
 * Time is a double in the caller's unit (virtlab's systems use seconds) and
 * starts at 0. Events fire in (time, scheduling order) order: two events at
 * the same time fire in the order they were scheduled (FIFO), so a run is a
 * pure function of its inputs and seed.
 *
 * Structure (details in des.c): a two-level ladder queue. The next few
 * events sit in a small 4-ary heap of 16-byte nodes (cache-line aligned
 * sibling groups); later ones are filed in O(1) into time buckets sized by
 * the measured event rate, and moved into the heap a bucket at a time.
 * Event bodies live in a free-listed slab; cancellation is lazy; the event
 * being run keeps its heap slot until its handler returns, so "handle one,
 * schedule one" costs one sift-down.
 *
 * Limits: at most DES_MAX_PENDING events pending (including cancelled ones not
 * yet reached), at most 2^40 schedules per engine.
 */
#ifndef VL_CORE_DES_H
#define VL_CORE_DES_H

#include <stddef.h>
#include <stdint.h>

typedef struct des des;

/* A handler: d is the engine (schedule more from here), ctx and arg are what
 * was given to des_at/des_after. */
typedef void (*des_fn)(des *d, void *ctx, uint64_t arg);

/* Names one scheduled event, for des_cancel. 0 is never a valid id. */
typedef uint64_t des_id;

#define DES_MAX_PENDING (1u << 24)

/* Creates an engine with room for `hint` pending events before it grows.
 * Returns NULL on allocation failure. */
des *des_create(size_t hint);

/* Frees the engine and every pending event (handlers are not called).
 * Accepts NULL. */
void des_destroy(des *d);

/* Schedules fn(d, ctx, arg) at absolute time t. Returns its id, or 0 if t is
 * NaN or earlier than des_now(), if the engine is full, or on allocation
 * failure (des_last_error says which). */
des_id des_at(des *d, double t, des_fn fn, void *ctx, uint64_t arg);

/* Same, at des_now() + dt (dt >= 0). */
des_id des_after(des *d, double dt, des_fn fn, void *ctx, uint64_t arg);

/* Cancels a pending event. Returns 0, or VL_ENOENT if id already fired, was
 * cancelled, or never existed. */
int des_cancel(des *d, des_id id);

/* Runs the next event, if any. Returns 1 if one ran, 0 if none is pending. */
int des_step(des *d);

/* Runs events while the next one is due at or before `until`, or until a
 * handler calls des_stop. Afterwards des_now() == until unless stopped
 * early. Returns the number of events run. Not re-entrant: don't call it
 * from a handler. */
uint64_t des_run(des *d, double until);

/* From inside a handler: makes the current des_run return after it. */
void des_stop(des *d);

double des_now(const des *d);
size_t des_pending(const des *d);      /* live (not cancelled) pending events */
uint64_t des_events_run(const des *d); /* events run so far */
int des_last_error(const des *d);      /* why the last des_at failed */

/*
 * The reference engine: the same contract with a plain binary heap of whole
 * events (swap-based sift, no slab, no replace-top). Tests use it as the
 * ordering oracle; `virtlab bench des` runs it side by side with des.
 */
typedef struct desref desref;
typedef void (*desref_fn)(desref *d, void *ctx, uint64_t arg);

desref *desref_create(size_t hint);
void desref_destroy(desref *d);
des_id desref_at(desref *d, double t, desref_fn fn, void *ctx, uint64_t arg);
des_id desref_after(desref *d, double dt, desref_fn fn, void *ctx, uint64_t arg);
int desref_cancel(desref *d, des_id id);
int desref_step(desref *d);
uint64_t desref_run(desref *d, double until);
double desref_now(const desref *d);
size_t desref_pending(const desref *d);

#endif
