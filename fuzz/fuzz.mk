# Fuzzing (fuzz/README.md), included by the Makefile. The targets and
# their own copy of the project's objects are built by clang with
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer in
# build/fuzz/, apart from every other build. Corpora a run grows and the
# crashes it finds land in build/fuzz/ too; the seeds in fuzz/corpus/ are
# only read.
#
#   make fuzz                      each target for FUZZ_SECONDS (default 20)
#   make fuzz FUZZ_SECONDS=600     longer
#   make fuzz FUZZ_TARGETS=fuzz_text
#   make fuzz-repro TARGET=fuzz_text INPUT=path/to/crash
#
# libFuzzer runs in this process, one worker: the CI machine has two cores.

FUZZ_CC ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 20
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The project's objects get coverage hooks but no main of libFuzzer's.
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Isrc -MMD -MP -g -O1 $(FUZZ_SAN)
FUZZ_OBJECTS := $(filter-out $(FUZZ_BUILD)/obj/src/cli/main.o,$(SOURCES:%.c=$(FUZZ_BUILD)/obj/%.o))
FUZZ_SOURCES := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_SOURCES:fuzz/%.c=%)
FUZZ_BINARIES := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

# The fuzz targets are C the project owns: formatted like the rest.
FORMATTED += $(sort $(wildcard fuzz/*.[ch]))

.PHONY: fuzz fuzz-build fuzz-repro

$(FUZZ_BUILD)/.deps-fuzz: | $(BUILD)/.deps-build
	@scripts/ensure-deps.sh fuzz
	@mkdir -p $(@D) && touch $@

$(FUZZ_BUILD)/obj/%.o: %.c | $(FUZZ_BUILD)/.deps-fuzz
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/obj/src/services/%.o: FUZZ_CFLAGS += -DSOCKSERV_SERVICE_SOURCE

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_OBJECTS) | $(FUZZ_BUILD)/.deps-fuzz
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJECTS) $(LDLIBS) -o $@

# Named here so make keeps them: they are not intermediate files.
fuzz-build: $(FUZZ_OBJECTS) $(FUZZ_BINARIES)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

# Replays one input, as a crash report's last line says to.
fuzz-repro: $(FUZZ_BUILD)/$(TARGET)
	@test -n "$(INPUT)" || { echo "usage: make fuzz-repro TARGET=fuzz_x INPUT=file" >&2; exit 2; }
	$(FUZZ_BUILD)/$(TARGET) $(INPUT)

-include $(FUZZ_OBJECTS:.o=.d) $(FUZZ_BINARIES:=.d)
