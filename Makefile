# sockserv build. `make` builds build/sockserv; `make test` runs every test;
# `make test SANITIZE=1` runs them against an ASan+UBSan build in
# build/sanitize/, so the two builds never mix objects. `make test-threads
# SANITIZE=thread` runs the tests whose servers share state between threads
# against a ThreadSanitizer build in build/tsan/.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/sockserv
DESTDIR ?=
PYTHON ?= /usr/bin/python3

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Isrc -MMD -MP
LDLIBS := -lpthread -luring

ifeq ($(SANITIZE),1)
BUILD ?= build/sanitize
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
BASE_CFLAGS += $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
else ifeq ($(SANITIZE),thread)
BUILD ?= build/tsan
SAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
BASE_CFLAGS += $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
else
BUILD ?= build
endif

SOURCES := $(shell find src -name '*.c' | sort)
OBJECTS := $(SOURCES:%.c=$(BUILD)/obj/%.o)
# Everything but main(), so unit tests can link the real modules.
LIB_OBJECTS := $(filter-out $(BUILD)/obj/src/cli/main.o,$(OBJECTS))

UNIT_SOURCES := $(sort $(wildcard tests/unit/test_*.c))
UNIT_TESTS := $(UNIT_SOURCES:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run test check-layers check-seam test-threads unit integration bench install uninstall clean format format-check deps-build deps-test

all: $(BUILD)/sockserv

$(BUILD)/.deps-build:
	@scripts/ensure-deps.sh build
	@mkdir -p $(@D) && touch $@

# After the build's packages, so two apt-get runs never race under make -j.
$(BUILD)/.deps-test: | $(BUILD)/.deps-build
	@scripts/ensure-deps.sh test
	@mkdir -p $(@D) && touch $@

# `make V=1` shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

# Services see a connection only through core/conn.h: with this defined,
# core/conn_model.h refuses to be included (see check-seam).
$(BUILD)/obj/src/services/%.o: BASE_CFLAGS += -DSOCKSERV_SERVICE_SOURCE

$(BUILD)/sockserv: $(OBJECTS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJECTS) | $(BUILD)/.deps-test
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJECTS) $(LDLIBS) -lcmocka -o $@

# Test-only tools (tests/tools/), kept out of the sockserv binary.
TEST_TOOLS := $(BUILD)/tools/without_io_uring

$(BUILD)/tools/%: tests/tools/%.c | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) $< -o $@

run: $(BUILD)/sockserv
	$(BUILD)/sockserv serve

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

integration: $(BUILD)/sockserv $(TEST_TOOLS) | $(BUILD)/.deps-test
	SOCKSERV=$(abspath $(BUILD)/sockserv) $(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

test: check-layers check-seam unit integration

# Every #include keeps to the layer rules of docs/architecture.md.
check-layers:
	$(Q)scripts/check-layers.sh

# The seam between services and models is kept by the compiler: each
# tests/seam/refused_*.c is a service doing what services may not, and must
# fail to compile; allowed_service.c must compile, so a failure means the
# seam and not the command.
SEAM_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Isrc -DSOCKSERV_SERVICE_SOURCE -fsyntax-only
check-seam: | $(BUILD)/.deps-build
	$(Q)$(CC) $(SEAM_CFLAGS) tests/seam/allowed_service.c
	$(Q)for f in tests/seam/refused_*.c; do \
		if $(CC) $(SEAM_CFLAGS) $$f 2>/dev/null; then \
			echo "check-seam: $$f compiled, but a service must not be able to do that" >&2; exit 1; \
		fi; \
	done; echo "check-seam: services cannot see inside a connection"

# The servers that run several threads in one process: chat (its mailboxes),
# --threads loops and the thread model. Meant for SANITIZE=thread, which
# finds races the other builds cannot; the harness fails a test whose server
# printed a sanitizer report. ThreadSanitizer holds back a signal that lands
# outside a call it treats as blocking until the thread makes its next call
# it sees (github.com/google/sanitizers/issues/1813), so a server waiting
# where it cannot see would never hear SIGTERM: uring's loops, waiting in
# io_uring_enter (a raw system call), and a server idle in poll(). Those
# tests are left to the other builds, as are the idle-CPU tests (files
# named *idle_server*), which TSan's own background thread would fail, and
# tests marked native_speed (tests/integration/pytest.ini), whose CPU or
# time bounds TSan's slowdown breaks on a loaded two-core machine.
THREADED_TESTS := -k "(chat or threads or thread or mailbox) and not idle_server and not uring" \
	-m "not native_speed"
test-threads: $(BUILD)/sockserv $(BUILD)/tests/test_mailbox $(TEST_TOOLS) | $(BUILD)/.deps-test
	$(BUILD)/tests/test_mailbox
	SOCKSERV=$(abspath $(BUILD)/sockserv) $(PYTHON) -m pytest -q tests/integration $(THREADED_TESTS) $(PYTEST_ARGS)

# Bench-only tools (the reference client sockserv bench is measured
# against), kept out of the sockserv binary.
BENCH_TOOLS := $(BUILD)/bench/threaded_client

$(BUILD)/bench/%: bench/tools/%.c | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LDLIBS) -o $@

# The experiments of bench/README.md; results land in bench/results/.
# The scaling experiments, then memory per idle connection and connection
# counts, chat fan-out, how --balance splits clients, and the side-by-side
# with other echo servers (given in SOCKSERV_RIVALS; see bench/rivals.py).
bench: $(BUILD)/sockserv $(BENCH_TOOLS)
	@scripts/ensure-deps.sh bench
	SOCKSERV=$(abspath $(BUILD)/sockserv) THREADED_CLIENT=$(abspath $(BUILD)/bench/threaded_client) \
		$(PYTHON) bench/run.py $(BENCH_ARGS)
	SOCKSERV=$(abspath $(BUILD)/sockserv) $(PYTHON) bench/memory_scale.py
	SOCKSERV=$(abspath $(BUILD)/sockserv) $(PYTHON) bench/chat_fanout.py
	SOCKSERV=$(abspath $(BUILD)/sockserv) $(PYTHON) bench/balance.py
	SOCKSERV=$(abspath $(BUILD)/sockserv) $(PYTHON) bench/rivals.py

# The documents the man page points to: README.md, and docs/*.md beside it
# under docs/ so that the README's links still lead somewhere. The man page
# is given the directory they went to.
INSTALLED_DOCS := $(wildcard docs/*.md)

install: $(BUILD)/sockserv
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BUILD)/sockserv $(DESTDIR)$(BINDIR)/sockserv
	install -d $(DESTDIR)$(DOCDIR)/docs
	sed 's|/usr/local/share/doc/sockserv|$(DOCDIR)|g' docs/sockserv.1 > $(DESTDIR)$(MANDIR)/man1/sockserv.1
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/sockserv.1
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 $(INSTALLED_DOCS) $(DESTDIR)$(DOCDIR)/docs/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sockserv $(DESTDIR)$(MANDIR)/man1/sockserv.1
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(addprefix $(DESTDIR)$(DOCDIR)/,$(INSTALLED_DOCS))
	rmdir $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# The example systemd units (contrib/systemd/), with ExecStart pointing at
# where install put the binary. Unit files are data, so they go under
# $(PREFIX)/lib/systemd/system; packagers set SYSTEMD_UNIT_DIR to
# /usr/lib/systemd/system or /etc/systemd/system.
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
SYSTEMD_UNITS := $(sort $(wildcard contrib/systemd/*.socket contrib/systemd/*.service))
.PHONY: install-systemd uninstall-systemd
install: install-systemd
uninstall: uninstall-systemd

install-systemd:
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	for unit in $(SYSTEMD_UNITS); do \
		sed 's|/usr/local/bin/sockserv|$(BINDIR)/sockserv|' $$unit > \
			$(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${unit##*/} && \
		chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${unit##*/} || exit 1; \
	done

uninstall-systemd:
	rm -f $(addprefix $(DESTDIR)$(SYSTEMD_UNIT_DIR)/,$(notdir $(SYSTEMD_UNITS)))

# Every C file the project owns, formatted by the one .clang-format.
FORMATTED := $(shell find src tests/unit tests/tools tests/seam bench/tools -name '*.[ch]' | sort)

format:
	clang-format -i $(FORMATTED)

# Fails, naming the files, when any C file differs from clang-format's output.
format-check:
	@scripts/ensure-deps.sh format
	@clang-format --dry-run --Werror $(FORMATTED)

clean:
	rm -rf build

# Fuzzing: make fuzz, fuzz-repro (fuzz/README.md).
include fuzz/fuzz.mk

# Connection churn against real servers, watched for leaks and drift
# (tests/soak/soak.py says what fails it). SOAK_SECONDS per model: epoll,
# uring and epoll --threads 2 in turn; 600 unless told.
SOAK_SECONDS ?= 600
.PHONY: soak
soak: $(BUILD)/sockserv | $(BUILD)/.deps-test
	SOCKSERV=$(abspath $(BUILD)/sockserv) $(PYTHON) tests/soak/soak.py --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

-include $(OBJECTS:.o=.d)
