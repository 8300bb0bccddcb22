# virtlab — one Makefile for the whole tree.
#
#   make          build build/virtlab
#   make test     install missing Debian deps (root), build, run every cmocka test
#   make run      the main job: every experiment, one HTML report in report/
#   make bench    every benchmark, one table
#   make asan     the whole suite under AddressSanitizer + UBSan, assert()s on
#   make fuzz     every libFuzzer harness in fuzz/ for FUZZ_SECONDS each (clang)
#
# Sources are found by wildcard: a new module is a new file, no Makefile edit.

CC       ?= cc
# `make V=1` shows full command lines.
Q        := $(if $(V),,@)
BUILD    ?= build
OPT      ?= -O2
WARN     := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
            -Wshadow -Wpointer-arith -Wvla
# NDEBUG_FLAG: assert()s state invariants on hot paths (DES order, CIP
# ownership, cache bounds, credit's run queues). Out of the optimized build,
# in under `make asan`, which sets NDEBUG_FLAG empty; `make NDEBUG_FLAG=`
# turns them on in any build (use a separate BUILD= dir: objects don't track
# flags).
NDEBUG_FLAG ?= -DNDEBUG
CPPFLAGS += -D_GNU_SOURCE -Isrc -I$(BUILD)/gen $(NDEBUG_FLAG)
# SAN: extra flags for sanitizer builds (make asan sets it); kept apart from
# CFLAGS so a command-line CFLAGS can't drop -std/-W/-MMD by accident.
SAN      ?=
CFLAGS   += -std=c11 $(OPT) -g $(WARN) -MMD -MP $(SAN)
LDFLAGS  += $(SAN)
LDLIBS   += -ljansson -lsodium -lsqlite3 -lm -lpthread

# Debian packages the build and the tests need. `deps` installs the missing
# ones when run as root (apt-get update once, then install); otherwise it
# names them and stops. The check is one dpkg-query call (~20 ms).
DEB_DEPS := libcmocka-dev libjansson-dev libsodium-dev libsqlite3-dev pkg-config
# Packages only the tests need (`make test` installs them, `make` does not);
# a test never installs anything itself.
TEST_DEB_DEPS :=

# Per-system extras: src/<system>/deps.mk may add DEB_DEPS, TEST_DEB_DEPS,
# LDLIBS, build rules of its own (e.g. a freestanding guest image) and
# EXTRA_OBJ, objects (under $(BUILD)/) linked into libvirtlab.a.
EXTRA_OBJ :=
include $(wildcard src/*/deps.mk)

LIB_SRC  := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(EXTRA_OBJ)
MAIN_OBJ := $(BUILD)/src/cli/main.o
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
GEN_HDR  := $(BUILD)/gen/ziggurat_tables.h

.PHONY: all test run bench asan clean deps test-deps format format-check fuzz fuzz-build \
	fuzz-deps fuzz-lib

all: deps $(BUILD)/virtlab

deps:
	@bash tools/deps.sh $(DEB_DEPS)

test-deps: deps
	@bash tools/deps.sh $(TEST_DEB_DEPS)

$(BUILD)/gen/ziggurat_tables.h: tools/gen_ziggurat.c | deps
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $(BUILD)/gen/gen_ziggurat $< -lm
	$(Q)$(BUILD)/gen/gen_ziggurat > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c | $(GEN_HDR) deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libvirtlab.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/virtlab: $(MAIN_OBJ) $(BUILD)/libvirtlab.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libvirtlab.a tests/vl_test.h | $(GEN_HDR) deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libvirtlab.a -lcmocka $(LDLIBS)

test: test-deps $(BUILD)/virtlab $(TEST_BIN)
	@VIRTLAB=$(abspath $(BUILD)/virtlab) bash tools/run_tests.sh $(TEST_BIN)

run: deps $(BUILD)/virtlab
	$(BUILD)/virtlab report --out report

bench: deps $(BUILD)/virtlab
	$(BUILD)/virtlab bench

# float-cast-overflow is not in gcc's -fsanitize=undefined: without it a double
# too big for its integer type converts silently (undefined behaviour).
asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan OPT="-O1" NDEBUG_FLAG= \
	  SAN="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
	  -fno-sanitize-recover=all"

# Coverage-guided fuzzing (fuzz/README.md): every fuzz/fuzz_*.c is a libFuzzer
# harness, built with clang against a clang build of the library in
# build-fuzz/ (ASan + UBSan, asserts on; clang's warnings shown, not errors:
# the tree's -Werror gate is gcc's), then run FUZZ_SECONDS each from its seed
# corpus fuzz/corpus/<name>/. Any finding (crash, leak, sanitizer report,
# broken contract, timeout) fails the run; its input is in build-fuzz/findings/.
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FUZZ_DEB_DEPS := clang libclang-rt-14-dev
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/fuzz/%)

fuzz-deps: deps
	@bash tools/deps.sh $(FUZZ_DEB_DEPS)

fuzz-lib: fuzz-deps
	@$(MAKE) --no-print-directory build-fuzz/libvirtlab.a BUILD=build-fuzz CC=$(FUZZ_CC) \
	  OPT="-O1" NDEBUG_FLAG= SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link -Wno-error"

build-fuzz/fuzz/%: fuzz/%.c fuzz/fuzz.h fuzz-lib
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-CC $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -Ibuild-fuzz/gen -std=c11 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer \
	  -o $@ $< build-fuzz/libvirtlab.a $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@bash tools/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)


# Every C file we own, formatted by the checked-in .clang-format (clang-format
# from Debian's clang-format package; CI runs format-check).
FMT_SRC := $(wildcard src/*/*.[ch] tests/*.[ch] tools/*.c fuzz/*.[ch])

format:
	clang-format -i $(FMT_SRC)

format-check:
	@bash tools/deps.sh clang-format
	@clang-format --dry-run -Werror $(FMT_SRC) && echo "format-check: $(words $(FMT_SRC)) files match .clang-format"

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_BIN:=.d)
