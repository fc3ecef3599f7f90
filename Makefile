# dnssecmon: plain make, pkg-config for every library.
#
#   make deps        apt-get the Debian 12 packages needed to build, test and demo
#   make             build ./dnssecmon
#   make test        build, bring up the private DNSSEC testbed, run every test
#   make demo        build, bring up the testbed, show the monitor at work on it
#   make bench [N=10000] [MIXED=1]   one daemon cycle over N generated signed zones
#                    (MIXED=1: in mixed states, with a server that never answers), with the
#                    dnsperf ceiling of the same servers (a benchmark, not a test)
#   make SANITIZE=1 test   the same suite with ASan + UBSan
#   make install PREFIX=/usr/local DESTDIR=
#   make deb         a Debian package in build/deb/
#   make fuzz-long   every libFuzzer target for 30 minutes each (not in CI)
#   make clean

VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR   ?=

CC        ?= cc
PKG_CONFIG ?= pkg-config

# Every library through pkg-config. getdns 1.6.0 ships its libevent glue as
# libgetdns_ex_event without a .pc file of its own, and Debian 12's shared
# copy does not export getdns_extension_set_libevent_base (nm -D shows it
# local): the static archive does, and needs only what libgetdns.so exports.
PKGS       = getdns libunbound libevent libmosquitto sqlite3 libcrypto jansson yaml-0.1 zlib \
             libevent_openssl libssl ldns
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := -l:libgetdns_ex_event.a $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Werror
# Diagnostics are built with snprintf into bounded buffers on purpose: a
# truncated error message is fine, so gcc's truncation guesses are off.
ifeq ($(shell $(CC) --version 2>/dev/null | grep -c clang),0)
WARN     += -Wno-format-truncation
endif
OPT      ?= -O2 -g
CFLAGS   ?= $(OPT)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CPPFLAGS) $(CFLAGS) -D_GNU_SOURCE \
             -DDNSSECMON_VERSION='"$(VERSION)"' -I. $(PKG_CFLAGS)
LDFLAGS  ?=

# Separate object trees per compiler and per sanitizer build, so switching
# between them never links stale objects.
CCNAME   := $(notdir $(firstword $(CC)))
ifeq ($(SANITIZE),1)
VARIANT   = $(CCNAME)-san
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_CFLAGS += $(SAN_FLAGS)
LDFLAGS  += $(SAN_FLAGS)
else
VARIANT   = $(CCNAME)
endif
B        = build/$(VARIANT)

LIB_SRCS  = $(wildcard common/*.c probe/*.c store/*.c alerts/*.c hostevents/*.c \
            dashboard-export/*.c)
CLI_SRCS  = $(wildcard cli/*.c)
LIB_OBJS  = $(LIB_SRCS:%.c=$(B)/%.o)
CLI_OBJS  = $(CLI_SRCS:%.c=$(B)/%.o)
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
BIN       = $(B)/dnssecmon

.PHONY: all deps test demo bench install uninstall clean unit fuzz fuzz-long deb

all: dnssecmon

# The top-level ./dnssecmon is always the plain (non-sanitizer) build of $(CC).
ifeq ($(SANITIZE),1)
dnssecmon: $(BIN)
else
dnssecmon: $(BIN)
	cp $(BIN) $@
endif

$(BIN): $(CLI_OBJS) $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# -MMD: a change to tests/store/synth.h or tap.h rebuilds the tests.
$(B)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF $(dir $@).$(notdir $@).d $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS)

# cli/shard.c is not in the library: its test links it directly.
$(B)/tests/test_shard: cli/shard.c
$(B)/tests/test_catalog: cli/catalog.c

# The malloc-failure shim the fault tests preload (tests/fault/): never
# instrumented, so that it can sit in front of ASan's allocator too.
$(B)/tests/faultmalloc.so: tests/fault/faultmalloc.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -g -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl

unit: $(UNIT_BINS) $(B)/tests/faultmalloc.so

# Benchmark helpers that link the real module sources (tests/bench/*.c).
$(B)/bench/%: tests/bench/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# libFuzzer targets: every parser of network input has one. Always clang,
# always ASan+UBSan, whatever CC the rest of the build uses.
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS  = -std=gnu11 -g -O1 -D_GNU_SOURCE -DDNSSECMON_VERSION='"$(VERSION)"' \
              -I. $(PKG_CFLAGS)
FUZZ_CFLAGS = $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined
# The code under test is compiled once for every target, with the same
# coverage and sanitizers (fuzzer-no-link: libFuzzer's instrumentation
# without its main()): eight targets each compiling every source was most
# of a CI build.
FUZZ_OBJ_CFLAGS = $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_OBJS = $(LIB_SRCS:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_OBJ_CFLAGS) -MMD -MP -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS) $(wildcard */*.h)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJS) $(PKG_LIBS)

# The configuration target needs the parser from cli/ too (not main()).
FUZZ_CONFIG_SRCS = $(filter-out cli/main.c,$(wildcard cli/config*.c cli/nameset.c cli/shard.c cli/domainlist.c))
FUZZ_CONFIG_OBJS = $(FUZZ_CONFIG_SRCS:%.c=build/fuzz/obj/%.o)
build/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(FUZZ_CONFIG_OBJS) $(FUZZ_LIB_OBJS) $(wildcard */*.h)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CONFIG_OBJS) $(FUZZ_LIB_OBJS) $(PKG_LIBS)

# The catalog parser lives in cli/ (it is the daemon's, not the library's).
build/fuzz/fuzz_catalog: tests/fuzz/fuzz_catalog.c build/fuzz/obj/cli/catalog.o $(FUZZ_LIB_OBJS) $(wildcard */*.h)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< build/fuzz/obj/cli/catalog.o $(FUZZ_LIB_OBJS) $(PKG_LIBS)

fuzz: $(FUZZ_BINS)

# Outside CI: every target for FUZZ_LONG_SECONDS each (default 30 minutes),
# its corpus grown in build/fuzz/long/NAME (seeded from tests/fuzz); a
# crash is kept in build/fuzz/long/NAME-crash-* and the run fails.
FUZZ_LONG_SECONDS ?= 1800
fuzz-long: fuzz
	tests/fuzz/run-long.sh $(FUZZ_LONG_SECONDS) $(FUZZ_BINS)

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_CONFIG_OBJS:.o=.d) build/fuzz/obj/cli/catalog.d
-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(join $(dir $(UNIT_BINS)),$(patsubst %,.%.d,$(notdir $(UNIT_BINS))))

# The shipped dashboard and rules are built into the binary (.incbin), so
# `dnssecmon export` writes exactly the repository's files.
$(B)/dashboard-export/grafana.o: dashboard-export/grafana-dashboard.json
$(B)/dashboard-export/rules.o: dashboard-export/prometheus-rules.yml

# ---------------------------------------------------------------- packages
# Exactly what build, test and demo use, from Debian 12.
DEBS_BUILD = build-essential clang pkg-config libgetdns-dev libunbound-dev \
             libevent-dev libmosquitto-dev libsqlite3-dev libssl-dev \
             libjansson-dev libyaml-dev zlib1g-dev libldns-dev
# e2fsprogs, util-linux: the read-only store fault test (mkfs.ext4, e2fsck,
# a loop mount).
DEBS_TEST  = nsd unbound bind9-utils bind9-dnsutils iproute2 procps python3 \
             sqlite3 valgrind libclang-rt-14-dev dnsperf python3-cryptography \
             e2fsprogs util-linux
# What the alert sinks and the dashboards need for their tests;
# prometheus-alertmanager: a two-peer cluster in front of the replicas.
DEBS_ALERTS = mosquitto mosquitto-clients openssl prometheus-alertmanager
# prometheus: promtool and the server the dashboard tests scrape with;
# chromium: the status page test renders the page headless.
DEBS_DASH   = prometheus chromium
# The NOC tools the shipped plugin definitions are tested in (8 MB).
DEBS_NOC    = icinga2-bin nagios4-core
# The Debian package test: dpkg-buildpackage, dh, lintian.
DEBS_PKG    = dpkg-dev debhelper lintian
DEBS       = $(DEBS_BUILD) $(DEBS_TEST) $(DEBS_ALERTS) $(DEBS_DASH) $(DEBS_NOC) $(DEBS_PKG)

# A no-op when everything is present. Installing nsd or unbound on a host
# with systemd would start system daemons on *:53 and take the testbed's
# addresses, so service start-up is held back with policy-rc.d while we install.
deps:
	@missing=; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: missing packages:$$missing (run 'make deps' as root)" >&2; exit 1; fi; \
	echo "deps: installing$$missing"; \
	made_policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	{ apt-get install -y --no-install-recommends $$missing || \
	  { apt-get update && apt-get install -y --no-install-recommends $$missing; }; }; rc=$$?; \
	[ -n "$$made_policy" ] && rm -f /usr/sbin/policy-rc.d; \
	if [ -d /run/systemd/system ]; then for s in nsd unbound prometheus prometheus-alertmanager; do \
	  case " $$missing " in *" $$s "*) systemctl disable --now $$s >/dev/null 2>&1 || true;; esac; done; fi; \
	exit $$rc

# ---------------------------------------------------------------- tests
# deps first, then a fresh make: pkg-config flags are read when make starts,
# which on a fresh machine is before the -dev packages exist.
# Under SANITIZE=1, tests/lsan.supp names the third-party leaks (libldns)
# LeakSanitizer must not blame on us; every process the tests start
# inherits it.
test: deps
	$(MAKE) dnssecmon unit fuzz
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	DNSSECMON_BIN=$(abspath $(BIN)) DNSSECMON_UNIT_DIR=$(abspath $(B)/tests) \
	  DNSSECMON_VARIANT=$(VARIANT) tests/run.sh

demo: deps
	$(MAKE) dnssecmon
	DNSSECMON_BIN=$(abspath $(BIN)) tests/demo.sh

# Not part of `make test`: it measures, it asserts nothing (tests/bench/bench.sh).
# Its testbed uses 127.0.1.11-41 and build/bench-testbed, so it can run beside
# the test or demo testbed; generated zones are cached in build/bench-cache.
bench: deps
	$(MAKE) dnssecmon $(B)/bench/metrics_render $(B)/bench/store_batch
	DNSSECMON_BIN=$(abspath $(BIN)) \
	  DNSSECMON_METRICS_RENDER=$(abspath $(B)/bench/metrics_render) \
	  DNSSECMON_STORE_BATCH=$(abspath $(B)/bench/store_batch) \
	  $(if $(MIXED),BENCH_MIXED=$(MIXED)) tests/bench/bench.sh $(or $(N),10000)

# ---------------------------------------------------------------- install
DOCDIR    ?= $(PREFIX)/share/doc/dnssecmon
# systemd searches /usr/lib and /usr/local/lib alike.
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

install: dnssecmon
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR)
	install -m 755 dnssecmon $(DESTDIR)$(BINDIR)/dnssecmon
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    etc/dnssecmon.service.in > $(DESTDIR)$(UNITDIR)/dnssecmon.service
	chmod 644 $(DESTDIR)$(UNITDIR)/dnssecmon.service
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    etc/dnssecmon@.service.in > $(DESTDIR)$(UNITDIR)/dnssecmon@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/dnssecmon@.service
	install -m 644 etc/dnssecmon.sysusers $(DESTDIR)$(SYSUSERSDIR)/dnssecmon.conf
	install -m 644 man/dnssecmon.8 $(DESTDIR)$(MANDIR)/man8/dnssecmon.8
	install -m 644 man/dnssecmon.conf.5 $(DESTDIR)$(MANDIR)/man5/dnssecmon.conf.5
	install -m 644 etc/dnssecmon.yaml \
	    etc/kubernetes/dnssecmon-statefulset.yaml README.md \
	    $(DESTDIR)$(DOCDIR)/
	install -m 755 etc/hooks/registrar-update.example $(DESTDIR)$(DOCDIR)/
	install -m 644 etc/alertmanager/alertmanager.yml $(DESTDIR)$(DOCDIR)/

# A Debian package from a copy of the tree (dh_auto_clean must not touch
# this build/): build/deb/dnssecmon_VERSION_ARCH.deb.
deb:
	rm -rf build/deb && mkdir -p build/deb/src
	git ls-files -co --exclude-standard | grep -vx dnssecmon | \
	  tar -cf - -T - | tar -xf - -C build/deb/src
	cd build/deb/src && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	  dpkg-buildpackage -us -uc -b

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dnssecmon $(DESTDIR)$(MANDIR)/man8/dnssecmon.8 \
	    $(DESTDIR)$(MANDIR)/man5/dnssecmon.conf.5 \
	    $(DESTDIR)$(UNITDIR)/dnssecmon.service \
	    $(DESTDIR)$(UNITDIR)/dnssecmon@.service \
	    $(DESTDIR)$(SYSUSERSDIR)/dnssecmon.conf
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	@# Testbed directories may hold running daemons' pidfiles and configs:
	@# leave them to `testbed.sh down` (build/testbed*, bench-testbed, tb-*).
	if [ -d build ]; then find build -mindepth 1 -maxdepth 1 ! -name 'testbed*' \
	    ! -name bench-testbed ! -name 'tb-*' -exec rm -rf {} +; fi
	rm -f dnssecmon
