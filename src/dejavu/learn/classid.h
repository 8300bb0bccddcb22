/*
 * classid.h — stable ids for DejaVu's workload classes, shared
 * by the live controller and the simulation.
 *
 * k-means numbers its classes differently from one run to the next (browse
 * was class 1 in one run, 0 in the next) while the memo file persists, so
 * memo keys never use a learner's class index. A class is identified by its
 * centroid in raw metric units: the memo table stores each id with its
 * centroid (memo_class_add); binding a learnt class looks for a stored
 * centroid the learner itself puts in that class (learn_classify, novelty
 * on every metric included) and reuses its id, else stores a new one.
 */
#ifndef VL_DEJAVU_CLASSID_H
#define VL_DEJAVU_CLASSID_H

#include "dejavu/learn/learn.h"
#include "dejavu/learn/memo.h"

/* The stable id of learnt class c of service into *id: a stored class
 * whose centroid lm classifies as c (the lowest such id), or a new one.
 * 0, VL_EINVAL (c out of range) or VL_EIO. */
int classid_bind(memo *m, const char *service, const learn_model *lm, size_t c, int *id);

#endif
