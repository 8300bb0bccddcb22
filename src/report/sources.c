/*
 * sources.c — where the report's paper targets come from: one entry per
 * cited passage of the paper digests (../shared/papers/<system>.md), with
 * the digest's section and the words the number is taken from, so a reader
 * can find it and a test can check that the passage is still there, in that
 * section (tests/test_report_rows.c reads the digests when they are present).
 *
 * The digests have three tiers: "Talk notes (targets)" — notes from the
 * conference talks the project started from (source kind "seed notes");
 * "Published" — the abstract and other public text ("paper"); and
 * "Recalled, unverified" ("paper", with verified: false in the row).
 */
#include "report/stages.h"

#include <stddef.h>

/* clang-format off */
const rpt_source rpt_sources[] = {
	[SRC_ELI_NETPERF] = { "seed notes: papers/eli.md §Talk notes (targets), results",
		"eli.md", "Talk notes (targets)",
		"netperf 100 k exits/s and 60 % of time in guest → 800 exits/s and 98 % in guest", 0 },
	[SRC_ELI_APACHE] = { "seed notes: papers/eli.md §Talk notes (targets), results",
		"eli.md", "Talk notes (targets)", "Apache 91 k exits/s → 1 k exits/s", 0 },
	[SRC_ELI_UDP] = { "seed notes: papers/eli.md §Talk notes (targets), results",
		"eli.md", "Talk notes (targets)",
		"UDP ping-pong latency 36 µs → 29 µs; bare metal 28 µs", 0 },
	[SRC_ELI_MODERATION] = { "seed notes: papers/eli.md §Talk notes (targets)",
		"eli.md", "Talk notes (targets)",
		"Interrupt moderation reduces the gain under an aggressive policy, but it is still "
		"worth a few %", 0 },
	[SRC_ELI_BARE] = { "paper: papers/eli.md §Published, abstract",
		"eli.md", "Published", "reaching 97 %–100 % of bare metal", 0 },
	[SRC_ELI_SPEEDUP] = { "paper: papers/eli.md §Published, abstract",
		"eli.md", "Published", "throughput and latency improve 1.3×–1.6×", 0 },
	[SRC_HW_DENIED] = { "paper: papers/hyperwall.md §Published, threat model and CIP tables",
		"hyperwall.md", "Published",
		"afterwards hypervisor and DMA accesses to protected pages are denied", 0 },
	[SRC_DV_SPEEDUP] = { "seed notes: papers/dejavu.md §Talk notes (targets), evaluation",
		"dejavu.md", "Talk notes (targets)", "reacts > 10× faster than RightScale", 0 },
	[SRC_DV_COST] = { "paper: papers/dejavu.md §Published, abstract",
		"dejavu.md", "Published", "up to 60 % lower provisioning cost", 0 },
};
/* clang-format on */
const size_t rpt_nsources = sizeof(rpt_sources) / sizeof(rpt_sources[0]);
