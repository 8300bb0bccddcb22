/* version.c — see version.h; the values come from build/gen/vl_build_gen.h. */
#include "core/version.h"

#include "vl_build_gen.h" /* build/gen/, written by tools/gen_version.sh */

const vl_build *vl_build_info(void)
{
	static const vl_build b = { VIRTLAB_VERSION, VL_BUILD_COMMIT, VL_BUILD_DIRTY, VL_BUILD_CC,
				    VL_BUILD_CFLAGS };
	return &b;
}

json_t *vl_build_json(void)
{
	const vl_build *b = vl_build_info();
	return json_pack("{s:s,s:s,s:b}", "version", b->version, "commit", b->commit, "dirty",
			 b->dirty);
}
