# Fund Ledger: fundd (daemon) and fundctl (client).
#
#   make            build bin/fundd and bin/fundctl
#   make deps       install missing Debian packages (root) or print the apt-get command
#   make run        deps, build, local PostgreSQL + TLS + config + admin token under var/dev,
#                   migrate, serve on 127.0.0.1:8443 until Ctrl-C
#   make test       deps, build, a fresh environment under var/test, unit + integration tests,
#                   the crash test, the failover test, then every fuzz target for
#                   TEST_FUZZ_SECONDS (30)
#   make crashtest  kill -9 fundd 20 times under a mixed load, retry, check exactly-once;
#                   then crash PostgreSQL and kill connections under the same load
#   make ha         Patroni and etcd, a primary and a synchronous standby; kill -9 the
#                   primary under load: nothing acknowledged lost, fundd never restarted
#   make soak       10 minutes of mixed load; RSS, descriptors, connections must stay flat
#   make asan       the same tests with AddressSanitizer and UndefinedBehaviorSanitizer builds
#   make bench      benchmarks (docs/benchmarks.md)
#   make schema     write docs/schema.sql: the schema a fresh database gets from migrations/
#   make fuzz       libFuzzer on the request path, money and value checks, the audit
#                   verifier, the closed-period check and the opening of sealed personal
#                   data and wrapped keys, each for FUZZ_SECONDS (default 60)
#   make install    fundd, fundctl, the migrations, the web console, the example
#                   configuration, the systemd unit and the man pages under PREFIX
#                   (/usr/local), staged under DESTDIR; make uninstall removes them
#                   (docs/operations.md)
#   make deb        the Debian package (config/debian) in build/deb
#   make clean

VERSION		:= 0.1.0
CC		?= cc
FLAVOR		?= release
PKGS		:= libevent libevent_openssl libevent_pthreads libpq openssl libcjson xlsxwriter icu-uc \
		   libsystemd
PYTHON		:= /usr/bin/python3
FUZZ_SECONDS	?= 60
# each fuzz target's share of make test
TEST_FUZZ_SECONDS ?= 30
DEV_DIR		:= var/dev
TEST_DIR	:= $(CURDIR)/var/test
DEV_PORT	?= 8443

WARN		:= -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow
# Where make install puts things (docs/operations.md, "Install and run as a service").
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
SHAREDIR	?= $(PREFIX)/share/fundd
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/fundd
SYSCONFDIR	?= /etc
# systemd's own unit directory for PREFIX=/usr (Debian 12: /lib/systemd/system), else
# PREFIX's (/usr/local/lib/systemd/system is on systemd's search path too)
UNITDIR		?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)

# The defaults of [database] migrations and [server] web_root: this tree for bin/fundd,
# the share directory for the fundd that make install installs (only config.c reads them).
TREE_PATHS	:= -DFUND_MIGRATIONS_DIR='"$(CURDIR)/migrations"' \
		   -DFUND_WEB_ROOT='"$(CURDIR)/clients/web"'
INST_PATHS	 = -DFUND_MIGRATIONS_DIR='"$(SHAREDIR)/migrations"' \
		   -DFUND_WEB_ROOT='"$(SHAREDIR)/web"'
DEFS		:= -D_GNU_SOURCE -DFUND_VERSION='"$(VERSION)"' $(TREE_PATHS)
ifeq ($(FLAVOR),asan)
SAN		:= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
OPT		:= -O1 -g
else
SAN		:=
OPT		:= -O2 -g
endif

PKG_CFLAGS	= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS		+= -std=c11 $(OPT) $(WARN) $(DEFS) $(SAN) -Idaemon $(PKG_CFLAGS)
LDLIBS		= $(SAN) $(PKG_LIBS) -lpthread -lm

OBJDIR		:= build/$(FLAVOR)
STAMP		:= build/.flavor-$(FLAVOR)
LIB_SRCS	:= $(filter-out daemon/main.c,$(wildcard daemon/*.c))
LIB_OBJS	:= $(LIB_SRCS:daemon/%.c=$(OBJDIR)/%.o)
CTL_SRCS	:= $(wildcard clients/*.c)
CTL_OBJS	:= $(CTL_SRCS:clients/%.c=$(OBJDIR)/ctl_%.o)
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(UNIT_SRCS:tests/unit/%.c=$(OBJDIR)/%)
# fundctl's offline audit verifier, and what it needs (no daemon objects); its check of a
# closed period, which follows the key lines with it
AV_SRCS		:= clients/audit_verify.c clients/audit_json.c clients/fundctl_util.c
AV_OBJS		:= $(AV_SRCS:clients/%.c=$(OBJDIR)/ctl_%.o)
CV_SRCS		:= clients/close_verify.c $(AV_SRCS)
CV_OBJS		:= $(CV_SRCS:clients/%.c=$(OBJDIR)/ctl_%.o)

.PHONY: all deps run test unit integration crashtest ha soak asan bench fuzz schema clean \
	distclean check-deps install uninstall deb FORCE

all: check-deps bin/fundd bin/fundctl

check-deps:
	@pkg-config --exists $(PKGS) || { echo "missing build dependencies: run 'make deps'" >&2; exit 2; }

deps:
	@config/devenv.sh deps

$(STAMP):
	@mkdir -p build
	@rm -f build/.flavor-*
	@touch $@

$(OBJDIR)/%.o: daemon/%.c daemon/*.h | $(STAMP)
	@mkdir -p $(OBJDIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -c -o $@ $<

$(OBJDIR)/ctl_%.o: clients/%.c clients/*.h | $(STAMP)
	@mkdir -p $(OBJDIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Iclients -c -o $@ $<

bin/fundd: $(OBJDIR)/main.o $(LIB_OBJS) $(STAMP)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(OBJDIR)/main.o $(LIB_OBJS) $(LDLIBS)

# fundctl talks to no service manager
bin/fundctl: $(CTL_OBJS) $(STAMP)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(CTL_OBJS) $(filter-out -lsystemd,$(LDLIBS))

# The installed fundd: the objects of bin/fundd, but config.o compiled again with the share
# directory's paths (INST_PATHS). $(INST_OBJDIR)/sharedir holds SHAREDIR, rewritten only
# when it changes, so that another PREFIX compiles it again.
INST_OBJDIR	:= $(OBJDIR)/install

$(INST_OBJDIR)/sharedir: FORCE
	@mkdir -p $(@D)
	@echo "$(SHAREDIR)" | cmp -s - $@ || echo "$(SHAREDIR)" >$@

$(INST_OBJDIR)/config.o: daemon/config.c daemon/*.h $(INST_OBJDIR)/sharedir | $(STAMP)
	$(CC) $(CPPFLAGS) $(filter-out $(TREE_PATHS),$(CFLAGS)) $(INST_PATHS) -c -o $@ $<

$(INST_OBJDIR)/fundd: $(OBJDIR)/main.o $(filter-out $(OBJDIR)/config.o,$(LIB_OBJS)) \
    $(INST_OBJDIR)/config.o $(STAMP)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

INST_SED	 = sed -e 's|/usr/sbin/fundd|$(SBINDIR)/fundd|g' \
		   -e 's|/usr/share/fundd|$(SHAREDIR)|g' -e 's|/usr/share/doc/fundd|$(DOCDIR)|g' \
		   -e 's|/etc/fundd/|$(SYSCONFDIR)/fundd/|g'

install: all $(INST_OBJDIR)/fundd
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(INST_OBJDIR)/fundd $(DESTDIR)$(SBINDIR)/fundd
	install -m 755 bin/fundctl $(DESTDIR)$(BINDIR)/fundctl
	@# the migrations and the console replace those of an earlier install whole: a file
	@# left from it would be applied, or served
	rm -rf $(DESTDIR)$(SHAREDIR)/migrations $(DESTDIR)$(SHAREDIR)/web
	install -d $(DESTDIR)$(SHAREDIR)/migrations/functions
	install -m 644 migrations/*.sql migrations/reworked.sha256 \
	    $(DESTDIR)$(SHAREDIR)/migrations/
	install -m 644 migrations/functions/*.sql $(DESTDIR)$(SHAREDIR)/migrations/functions/
	find clients/web -type f ! -name README.md ! -name '.*' | while read -r f; do \
	    install -D -m 644 "$$f" "$(DESTDIR)$(SHAREDIR)/web/$${f#clients/web/}" || exit 1; \
	done
	install -m 644 config/fundd.conf.example $(DESTDIR)$(DOCDIR)/
	@# the man page and the unit name the package's paths: make install writes its own
	$(INST_SED) docs/man/fundd.8 >$(DESTDIR)$(MANDIR)/man8/fundd.8
	install -m 644 docs/man/fundctl.1 $(DESTDIR)$(MANDIR)/man1/
	$(INST_SED) config/fundd.service >$(DESTDIR)$(UNITDIR)/fundd.service
	chmod 644 $(DESTDIR)$(MANDIR)/man8/fundd.8 $(DESTDIR)$(UNITDIR)/fundd.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fundd $(DESTDIR)$(BINDIR)/fundctl \
	    $(DESTDIR)$(MANDIR)/man8/fundd.8 $(DESTDIR)$(MANDIR)/man1/fundctl.1 \
	    $(DESTDIR)$(DOCDIR)/fundd.conf.example $(DESTDIR)$(UNITDIR)/fundd.service
	rm -rf $(DESTDIR)$(SHAREDIR)
	@rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# The Debian package: a copy of the sources in build/deb/fundd-VERSION with config/debian as
# its debian/, built by dpkg-buildpackage (binary only, unsigned); the .deb lands in build/deb.
DEB_DIR		:= build/deb
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
	    { echo "missing packaging tools: run 'make deps'" >&2; exit 2; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/fundd-$(VERSION)
	cp -R Makefile README.md daemon clients migrations config docs $(DEB_DIR)/fundd-$(VERSION)/
	cp -R config/debian $(DEB_DIR)/fundd-$(VERSION)/debian
	@# the package's own build: none of this make's variables (FLAVOR=asan, say)
	cd $(DEB_DIR)/fundd-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -us -uc -b -jauto
	@ls $(DEB_DIR)/*.deb

FORCE:

$(OBJDIR)/test_%: tests/unit/test_%.c $(LIB_OBJS)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

$(OBJDIR)/test_audit_verify: tests/unit/test_audit_verify.c $(AV_OBJS)
	$(CC) $(CFLAGS) -Iclients -o $@ $< $(AV_OBJS) $(LDLIBS) -lcmocka

# fundctl's table of a trial balance
TBL_OBJS	:= $(OBJDIR)/ctl_fundctl_ledger.o $(OBJDIR)/ctl_fundctl_util.o
$(OBJDIR)/test_fundctl_ledger: tests/unit/test_fundctl_ledger.c $(TBL_OBJS)
	$(CC) $(CFLAGS) -Iclients -o $@ $< $(TBL_OBJS) $(LDLIBS) -lcmocka

# fundctl's tables, CSV, methods and help
OUT_OBJS	:= $(OBJDIR)/ctl_fundctl_out.o $(OBJDIR)/ctl_fundctl_util.o
$(OBJDIR)/test_fundctl_out: tests/unit/test_fundctl_out.c $(OUT_OBJS)
	$(CC) $(CFLAGS) -Iclients -o $@ $< $(OUT_OBJS) $(LDLIBS) -lcmocka

$(OBJDIR)/test_close_verify: tests/unit/test_close_verify.c $(CV_OBJS)
	$(CC) $(CFLAGS) -Iclients -o $@ $< $(CV_OBJS) $(LDLIBS) -lcmocka

# the unit tests, and no circle of includes between daemon files or modules
unit: all $(UNIT_BINS)
	@$(PYTHON) tests/unit/include_cycles.py
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# The integration suite sets up PostgreSQL, TLS material and the daemons itself
# (tests/integration/conftest.py through config/devenv.sh).
integration: all bin/loadgen
	@config/devenv.sh destroy $(TEST_DIR)
	FUND_TEST_DIR=$(TEST_DIR) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

test: deps
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory crashtest
	@$(MAKE) --no-print-directory ha
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

# kill -9 fundd 20 times under a mixed load, then crash PostgreSQL 4 times and kill the
# daemon's connections under the same load; every call exactly once (tests/crash/)
crashtest: all
	$(PYTHON) tests/crash/crashtest.py
	$(PYTHON) tests/crash/crashtest.py --db-faults

# a primary and a synchronous standby under Patroni (etcd on loopback), fundd on both
# hosts; the primary's PostgreSQL killed under load: every acknowledged call exactly once
# in the new primary, the audit chain verified, fundd never restarted (tests/ha/)
ha: all
	$(PYTHON) tests/ha/failover.py

# 10 minutes of mixed load at 32 connections; RSS, descriptors and database connections
# sampled every 10 s must stay flat (not part of make test)
SOAK_SECONDS ?= 600
soak: all
	$(PYTHON) tests/crash/crashtest.py --soak $(SOAK_SECONDS)

asan: deps
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 $(MAKE) --no-print-directory FLAVOR=asan unit integration

run: deps
	@$(MAKE) --no-print-directory all
	@config/devenv.sh up $(DEV_DIR) $(DEV_PORT)
	@echo
	@echo "fundd is starting on https://127.0.0.1:$(DEV_PORT) (Ctrl-C stops it). Call it with:"
	@echo "  export FUNDCTL_URL=https://127.0.0.1:$(DEV_PORT) FUNDCTL_CACERT=$(CURDIR)/$(DEV_DIR)/tls/ca.crt"
	@echo "  export FUNDCTL_TOKEN=\$$(cat $(CURDIR)/$(DEV_DIR)/admin.token)"
	@echo "  bin/fundctl call system.whoami"
	@echo "Or open https://127.0.0.1:$(DEV_PORT)/ in a browser that trusts $(DEV_DIR)/tls/ca.crt"
	@echo "and sign in with the token in $(DEV_DIR)/admin.token (docs/web.md)."
	@echo
	@exec bin/fundd -c $(DEV_DIR)/fundd.conf

bench: deps
	@$(MAKE) --no-print-directory all bin/loadgen
	@tests/bench/run.sh

# A new cluster under var/schema each time, so that the file is what a fresh database gets;
# tests/integration/test_migrations.py fails while it is stale.
SCHEMA_DIR	:= $(CURDIR)/var/schema
schema: all
	@mkdir -p var
	@config/devenv.sh destroy $(SCHEMA_DIR)
	@config/devenv.sh up $(SCHEMA_DIR) >/dev/null 2>var/schema-up.log || \
	    { cat var/schema-up.log >&2; exit 1; }
	@config/devenv.sh schema $(SCHEMA_DIR) >docs/schema.sql.new
	@config/devenv.sh destroy $(SCHEMA_DIR)
	@mv docs/schema.sql.new docs/schema.sql
	@rm -f var/schema-up.log
	@echo "wrote docs/schema.sql"

bin/loadgen: tests/bench/loadgen.c
	@mkdir -p bin
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror $(PKG_CFLAGS) -o $@ $< \
	    $(PKG_LIBS) -lpthread

# the request path up to the database: parsing, validation, rendering (no pool, no cache)
FUZZ_SRCS	:= daemon/http_parse.c daemon/rpc.c daemon/rpc_error.c daemon/methods.c \
		   daemon/validate.c daemon/util.c daemon/log.c

bin/fuzz_request: tests/fuzz/fuzz_request.c $(FUZZ_SRCS) daemon/*.h
	@mkdir -p bin
	clang -std=c11 -g -O1 -D_GNU_SOURCE -DFUND_VERSION='"$(VERSION)"' \
	    -fsanitize=fuzzer,address,undefined -Idaemon $(PKG_CFLAGS) -o $@ \
	    tests/fuzz/fuzz_request.c $(FUZZ_SRCS) $(PKG_LIBS) -lpthread

bin/fuzz_money: tests/fuzz/fuzz_money.c daemon/validate.c daemon/validate.h
	@mkdir -p bin
	clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Idaemon \
	    -o $@ tests/fuzz/fuzz_money.c daemon/validate.c

bin/fuzz_audit_verify: tests/fuzz/fuzz_audit_verify.c $(AV_SRCS) clients/*.h
	@mkdir -p bin
	clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	    -Iclients $(PKG_CFLAGS) -o $@ tests/fuzz/fuzz_audit_verify.c $(AV_SRCS) \
	    $(PKG_LIBS)

bin/fuzz_close_verify: tests/fuzz/fuzz_close_verify.c $(CV_SRCS) clients/*.h
	@mkdir -p bin
	clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	    -Iclients $(PKG_CFLAGS) -o $@ tests/fuzz/fuzz_close_verify.c $(CV_SRCS) \
	    $(PKG_LIBS) -lm

# sealed values and wrapped keys opened, corrupted (daemon/privacy.c), and normalised names;
# answers opened as the daemon opens them (daemon/person.c)
PRIV_FUZZ_SRCS	:= daemon/privacy.c daemon/person.c daemon/util.c daemon/log.c

bin/fuzz_privacy: tests/fuzz/fuzz_privacy.c $(PRIV_FUZZ_SRCS) daemon/*.h
	@mkdir -p bin
	clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Idaemon \
	    $(PKG_CFLAGS) -o $@ tests/fuzz/fuzz_privacy.c $(PRIV_FUZZ_SRCS) $(PKG_LIBS) \
	    -lpthread

fuzz: deps
	@$(MAKE) --no-print-directory bin/fuzz_request bin/fuzz_audit_verify bin/fuzz_money \
	    bin/fuzz_close_verify bin/fuzz_privacy
	@mkdir -p var/fuzz/corpus var/fuzz/corpus_audit var/fuzz/corpus_money \
	    var/fuzz/corpus_close var/fuzz/corpus_privacy
	@cp -n tests/fuzz/corpus/* var/fuzz/corpus/ 2>/dev/null || true
	@cp -n tests/fuzz/corpus_audit/* var/fuzz/corpus_audit/ 2>/dev/null || true
	@cp -n tests/fuzz/corpus_money/* var/fuzz/corpus_money/ 2>/dev/null || true
	@cp -n tests/fuzz/corpus_close/* var/fuzz/corpus_close/ 2>/dev/null || true
	@cp -n tests/fuzz/corpus_privacy/* var/fuzz/corpus_privacy/ 2>/dev/null || true
	bin/fuzz_request -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=5 \
	    -artifact_prefix=var/fuzz/ var/fuzz/corpus
	bin/fuzz_audit_verify -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
	    -timeout=5 -artifact_prefix=var/fuzz/audit- var/fuzz/corpus_audit
	bin/fuzz_money -max_total_time=$(FUZZ_SECONDS) -max_len=255 -timeout=5 \
	    -artifact_prefix=var/fuzz/money- var/fuzz/corpus_money
	bin/fuzz_close_verify -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=5 \
	    -artifact_prefix=var/fuzz/close- var/fuzz/corpus_close
	bin/fuzz_privacy -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=5 \
	    -artifact_prefix=var/fuzz/privacy- var/fuzz/corpus_privacy

clean:
	rm -rf build bin

# stop and remove every local environment under var/ (clusters included)
distclean: clean
	@for d in var/*/; do [ -d "$$d/pg" ] && config/devenv.sh destroy "$$d"; done; true
	rm -rf var

-include $(wildcard $(OBJDIR)/*.d)
