/* classid.c — stable class ids from centroids. See classid.h. */
#include "dejavu/learn/classid.h"

typedef struct bind_ctx {
	const learn_model *lm;
	int c, id;
} bind_ctx;

static int match(void *ctx, int id, const sig *centroid)
{
	bind_ctx *b = ctx;
	if (learn_classify(b->lm, centroid, NULL) != b->c)
		return 0;
	b->id = id;
	return 1; /* found: stop */
}

int classid_bind(memo *m, const char *service, const learn_model *lm, size_t c, int *id)
{
	sig cent;
	if (learn_class_centroid(lm, c, &cent))
		return VL_EINVAL;
	bind_ctx b = { lm, (int)c, -1 };
	int rc = memo_class_foreach(m, service, match, &b);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		*id = b.id;
		return 0;
	}
	return memo_class_add(m, service, &cent, id);
}
