# Flux - metrics ingestion for Graphite. See README.md and INSTALL.
#
# User settings: override on the command line, e.g.
#   make install PREFIX=/usr
# The defaults put every program outside /usr/lib/cgi-bin, which Debian's
# Apache serves at /cgi-bin/ (that would bypass Flux's access control).
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
CGIDIR ?= $(PREFIX)/lib/flux/cgi-bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/flux
SYSCONFDIR ?= /etc
CRONDIR ?= $(SYSCONFDIR)/cron.d
APACHECONFDIR ?= $(SYSCONFDIR)/apache2/conf-available
# The kernel-queued FastCGI pools (INSTALL, section 9): their systemd unit
# and the directory of their sockets.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
FCGISOCKDIR ?= /run/flux
# Where the site for Skyline's Vista goes (not enabled: INSTALL, section 8).
APACHESITEDIR ?= $(SYSCONFDIR)/apache2/sites-available
LOCALSTATEDIR ?= /var
# The defaults of FLUX_SPOOL_PATH, DATA_UPLOADS_PATH and
# FLUX_SAVE_UPLOADS_PATH (flux.conf(5)): set those too if you move them.
SPOOLDIR ?= $(LOCALSTATEDIR)/spool/flux
UPLOADSDIR ?= $(LOCALSTATEDIR)/lib/flux/data_uploads
SAVEDIR ?= $(LOCALSTATEDIR)/lib/flux/processed_uploads
# The web server's user and group: they run the CGIs and, from cron,
# flux-batch, so they own the spool and upload directories.
WWWUSER ?= www-data
WWWGROUP ?= www-data
CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=
INSTALL ?= install

# Warnings and includes are added to the user's CFLAGS, never replace them.
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
PKGS = hiredis libcjson zlib libarchive libcurl yajl expat
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(shell pkg-config --cflags $(PKGS)) \
	-Icommon -MMD -MP $(CPPFLAGS) $(CFLAGS)
# Every plain-CGI request is a new process, and each shared library costs
# its loading and symbol binding: hiredis, zlib and libfcgi are linked statically
# (callgrind, one metric_data GET: 389k -> 269k instructions), and
# --as-needed records only the libraries a program uses.
# STATIC_DEPS=0 links them dynamically, as a distribution's package must
# (Debian policy 4.13: no embedded copies of libraries).
STATIC_DEPS ?= 1
ifeq ($(STATIC_DEPS),1)
DEPS_LIBS = -Wl,-Bstatic -lhiredis -lz -lfcgi -Wl,-Bdynamic
else
DEPS_LIBS = -lhiredis -lz -lfcgi
endif
LIBS = -Wl,--as-needed $(DEPS_LIBS) \
	$(shell pkg-config --libs libcjson libarchive libcurl yajl expat) -lcsv -lm

# make SANITIZE=1: AddressSanitizer and UndefinedBehaviorSanitizer.
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

COMMON_SRC = common/util.c common/log.c common/conf.c common/metric.c \
	common/query.c common/cgi.c common/store.c common/store_claim.c \
	common/store_last.c common/pickle.c \
	common/carbon.c common/spool.c common/deliver.c common/ingest.c \
	common/multipart.c common/date.c common/fs.c common/upload.c \
	common/status.c common/pylist.c common/series.c common/fetch.c \
	common/popjob.c common/json.c common/telegraf.c common/stats.c \
	common/store_stats.c common/health.c
COMMON_OBJ = $(COMMON_SRC:.c=.o)
CGIS = cgi-bin/metric_data cgi-bin/metric_data_post cgi-bin/populate_metric \
	cgi-bin/upload_data cgi-bin/upload_status cgi-bin/status_page \
	cgi-bin/upload_page
BATCH = batch/flux-batch
# The jobs flux-batch links besides its main().
BATCH_SRC = batch/flux-batch.c batch/populate.c batch/uploads.c batch/upfile.c \
	batch/report.c batch/unpack.c batch/sheet.c batch/xlsx.c batch/xls.c \
	batch/retention.c batch/check.c batch/xalloc.c batch/status.c \
	batch/selfmetrics.c
BATCH_OBJ = $(BATCH_SRC:.c=.o)
UNIT = tests/unit/test_unit tests/unit/pickle_rt tests/unit/lua_text \
	tests/unit/conf_table
# The Redis scripts kept as Lua files (common/lua/), each embedded in the
# program as the C string NAME_lua of a generated header common/lua/NAME.lua.h,
# with its SHA1 as NAME_lua_sha (for EVALSHA).
LUA_HEADERS = common/lua/dedup.lua.h common/lua/advance.lua.h \
	common/lua/rollback.lua.h common/lua/last.lua.h common/lua/confirm.lua.h \
	common/lua/stats.lua.h

all: $(CGIS) $(BATCH)

common/libflux.a: $(COMMON_OBJ)
	$(AR) rcs $@ $(COMMON_OBJ)

%.o: %.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# How a Lua script is embedded: common/lua/embed.awk (plain awk, no extra
# build tool) prints the files as one C string; comment lines are sent as
# empty lines and indentation is dropped. The same awk prints the bare
# text for sha1sum, the SHA1 Redis's script cache will know it by. The
# scripts start with record.lua, the flux.last record reader, and
# stats.lua (the self-metrics' count_stats()); the confirm, which reads no
# record, with stats.lua only. stats.lua is also made into the macro
# STATS_LUA, for the scripts written in C (store_stats.c). tests/lua.bats
# has Redis compile the embedded text (SCRIPT LOAD) and checks the SHA1,
# both printed by tests/unit/lua_text.
EMBED_LUA = awk -v text=1 -f common/lua/embed.awk $(2) | sha1sum | cut -c1-40 > $@.sha && \
	awk -v name=$(1) -v sha="$$(cat $@.sha)" -f common/lua/embed.awk $(2) > $@.tmp && \
	rm -f $@.sha && mv $@.tmp $@
common/lua/%.lua.h: common/lua/record.lua common/lua/stats.lua common/lua/%.lua \
		common/lua/embed.awk
	$(call EMBED_LUA,$*_lua,common/lua/record.lua common/lua/stats.lua common/lua/$*.lua)
common/lua/confirm.lua.h: common/lua/stats.lua common/lua/confirm.lua common/lua/embed.awk
	$(call EMBED_LUA,confirm_lua,common/lua/stats.lua common/lua/confirm.lua)
common/lua/stats.lua.h: common/lua/stats.lua common/lua/embed.awk
	awk -v name=STATS_LUA -v macro=1 -f common/lua/embed.awk common/lua/stats.lua > $@.tmp
	mv $@.tmp $@

# Generated headers exist before the first compile that includes them.
common/store_claim.o common/store_last.o common/store_stats.o \
	tests/unit/lua_text.o: $(LUA_HEADERS)

$(CGIS) $(UNIT): %: %.o common/libflux.a
	$(CC) $(LDFLAGS) -o $@ $< common/libflux.a $(LIBS)

$(BATCH): $(BATCH_OBJ) common/libflux.a
	$(CC) $(LDFLAGS) -o $@ $(BATCH_OBJ) common/libflux.a $(LIBS)

# The test suite starts its own redis-server, carbon-cache and Apache on
# private ports (tests/tools/deps.sh installs the packages). Under SANITIZE=1
# every sanitizer report goes to a file and any report fails the check.
SANLOG = /tmp/flux-sanitizer-logs
# Before anything: a missing tool stops here, naming its package.
deps-check:
	@bash tests/tools/deps.sh --check

check: deps-check all $(UNIT)
ifeq ($(SANITIZE),1)
	rm -rf $(SANLOG) && mkdir -p $(SANLOG) && chmod 1777 $(SANLOG)
	ASAN_OPTIONS=log_path=$(SANLOG)/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(SANLOG)/ubsan:print_stacktrace=1 \
		prove -e bats tests/*.bats tests/fcgi/*.bats tests/pool/*.bats
	@if [ -n "$$(ls -A $(SANLOG))" ]; then cat $(SANLOG)/*; \
		echo "sanitizer reports above"; exit 1; fi
else
	prove -e bats tests/*.bats tests/fcgi/*.bats tests/pool/*.bats
endif

# The CGI suites once more, each CGI run under valgrind (errors and leaks fail).
check-valgrind: deps-check all $(UNIT)
	FLUX_VALGRIND=1 prove -e bats tests/metric_data.bats tests/metric_data_post.bats \
		tests/conf.bats tests/health.bats tests/pages.bats

# Flux past one machine (tests/cluster/run.sh): two nodes behind one
# Redis master, a replica and three sentinels, carbon-c-relay in front of
# two carbon-caches, under load and faults; about 2 minutes.
check-cluster: deps-check all
	bash tests/cluster/run.sh

# Files made from a template with the install-time directories: the cron
# entry, the Apache configurations, the site for Vista and the pools'
# systemd unit. $(call subst_dirs,IN) writes stdout.
subst_dirs = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@CGIDIR@|$(CGIDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@WWWUSER@|$(WWWUSER)|g' \
	-e 's|@WWWGROUP@|$(WWWGROUP)|g' -e 's|@FCGISOCKDIR@|$(FCGISOCKDIR)|g' $(1)
# $(call install_new,CMD,FILE,MODE): FILE from CMD's output, unless FILE
# exists: configuration is the operator's once installed, and a
# re-install must not undo an edit.
install_new = if [ -e "$(DESTDIR)$(2)" ]; then echo "kept $(DESTDIR)$(2)"; \
	else $(1) > "$(DESTDIR)$(2)" && chmod $(3) "$(DESTDIR)$(2)" && \
	echo "installed $(DESTDIR)$(2)"; fi
# $(call remove_same,CMD,FILE): remove FILE if it still is CMD's output.
remove_same = if [ -e "$(DESTDIR)$(2)" ]; then \
	if $(1) | cmp -s - "$(DESTDIR)$(2)"; then rm -f "$(DESTDIR)$(2)" && \
	echo "removed $(DESTDIR)$(2)"; else echo "kept $(DESTDIR)$(2): edited"; fi; fi
STATEDIRS = $(SPOOLDIR) $(UPLOADSDIR) $(SAVEDIR)

# install: programs, man pages, configuration, cron entry, Apache conf and
# Vista's site, and the directories the web server writes. A packager whose own scripts
# make those directories (debian/rules) calls install-files alone.
install: install-files install-dirs

install-files: all
	$(INSTALL) -d $(DESTDIR)$(CGIDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/flux $(DESTDIR)$(CRONDIR) $(DESTDIR)$(APACHECONFDIR) \
		$(DESTDIR)$(APACHESITEDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0755 $(CGIS) $(DESTDIR)$(CGIDIR)/
	$(INSTALL) -m 0755 $(BATCH) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 man/flux.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 man/flux.7 $(DESTDIR)$(MANDIR)/man7/
	$(INSTALL) -m 0644 man/flux-batch.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 flux.conf.example $(DESTDIR)$(DOCDIR)/
	@$(call install_new,cat flux.conf.example,$(SYSCONFDIR)/flux/flux.conf,0640)
	@$(call install_new,$(call subst_dirs,cron/flux.in),$(CRONDIR)/flux,0644)
	@$(call install_new,$(call subst_dirs,apache/flux.conf.in),$(APACHECONFDIR)/flux.conf,0644)
	@$(call install_new,$(call subst_dirs,apache/flux-pool.conf.in),$(APACHECONFDIR)/flux-pool.conf,0644)
	@$(call install_new,$(call subst_dirs,apache/flux-vista.conf.in),$(APACHESITEDIR)/flux-vista.conf,0644)
	$(call subst_dirs,systemd/flux-fcgi@.service.in) > $(DESTDIR)$(SYSTEMDUNITDIR)/flux-fcgi@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/flux-fcgi@.service
	@if [ -e "$(DESTDIR)$(CRONDIR)/flux-batch" ]; then \
		echo "note: $(DESTDIR)$(CRONDIR)/flux-batch is an older install's: remove it"; fi

# The web server's user owns them, and reads the configuration: set only on
# the real system (no DESTDIR) and as root, as a staged tree cannot know
# that user. A configuration already given a group other than root keeps it.
install-dirs:
	$(INSTALL) -d -m 0750 $(addprefix $(DESTDIR),$(STATEDIRS))
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		echo "chown $(WWWUSER):$(WWWGROUP) $(STATEDIRS)"; \
		chown $(WWWUSER):$(WWWGROUP) $(STATEDIRS); \
		if [ "$$(stat -c %g $(SYSCONFDIR)/flux/flux.conf)" = 0 ]; then \
			echo "chgrp $(WWWGROUP) $(SYSCONFDIR)/flux/flux.conf"; \
			chgrp $(WWWGROUP) $(SYSCONFDIR)/flux/flux.conf; fi; \
	else \
		echo "note: make $(STATEDIRS) owned by $(WWWUSER)"; \
		echo "note: make $(SYSCONFDIR)/flux/flux.conf readable by group $(WWWGROUP)"; \
	fi

# uninstall: what install made, except the operator's: a configuration, cron
# entry, Apache conf or site that differs from what install wrote, and a
# spool or upload directory that still holds something, are kept (and named).
uninstall:
	rm -f $(addprefix $(DESTDIR)$(CGIDIR)/,$(notdir $(CGIS))) $(DESTDIR)$(SBINDIR)/flux-batch
	rm -f $(DESTDIR)$(MANDIR)/man5/flux.conf.5 $(DESTDIR)$(MANDIR)/man7/flux.7 \
		$(DESTDIR)$(MANDIR)/man8/flux-batch.8 $(DESTDIR)$(DOCDIR)/flux.conf.example \
		$(DESTDIR)$(SYSTEMDUNITDIR)/flux-fcgi@.service
	rm -f $(DESTDIR)$(SPOOLDIR)/.flux-batch.lock
	@if [ -z "$(DESTDIR)" ]; then echo "rm -f /run/lock/flux-batch.lock"; \
		rm -f /run/lock/flux-batch.lock; fi
	@$(call remove_same,cat flux.conf.example,$(SYSCONFDIR)/flux/flux.conf)
	@$(call remove_same,$(call subst_dirs,cron/flux.in),$(CRONDIR)/flux)
	@$(call remove_same,$(call subst_dirs,apache/flux.conf.in),$(APACHECONFDIR)/flux.conf)
	@$(call remove_same,$(call subst_dirs,apache/flux-pool.conf.in),$(APACHECONFDIR)/flux-pool.conf)
	@$(call remove_same,$(call subst_dirs,apache/flux-vista.conf.in),$(APACHESITEDIR)/flux-vista.conf)
	@for d in $(CGIDIR) $(DOCDIR) $(SYSCONFDIR)/flux $(STATEDIRS) \
		$(sort $(filter %/flux/,$(dir $(CGIDIR) $(UPLOADSDIR) $(SAVEDIR)))); do \
		[ -d "$(DESTDIR)$$d" ] || continue; \
		if rmdir "$(DESTDIR)$$d" 2>/dev/null; then echo "removed $(DESTDIR)$$d"; \
		else echo "kept $(DESTDIR)$$d: not empty"; fi; \
	done

clean:
	rm -f common/*.o common/*.d common/*.a cgi-bin/*.o cgi-bin/*.d batch/*.o batch/*.d
	rm -f tests/unit/*.o tests/unit/*.d $(CGIS) $(BATCH) $(UNIT) $(FUZZ)
	rm -f common/lua/*.lua.h common/lua/*.lua.h.tmp common/lua/*.lua.h.sha

# make fuzz: build every libFuzzer harness in tests/fuzz/ (clang) and run
# each for FUZZ_SECONDS on a copy of its seed corpus under FUZZ_DIR; any
# crash, leak or sanitizer report fails. A crashing input is left in
# FUZZ_DIR/<name>-crash-*; keep it in tests/fuzz/corpus/<name>/ once fixed.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR ?= /tmp/flux-fuzz
FUZZ = $(basename $(wildcard tests/fuzz/fuzz_*.c))
# The harnesses link every parser: common/ and the batch jobs without main().
FUZZ_SRC = $(COMMON_SRC) batch/report.c batch/unpack.c batch/sheet.c \
	batch/xlsx.c batch/xls.c batch/retention.c
FUZZ_CFLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-Icommon -Ibatch $(shell pkg-config --cflags $(PKGS))
FUZZ_LIBS = $(shell pkg-config --libs $(PKGS)) -lfcgi -lcsv -lm

$(FUZZ): %: %.c $(FUZZ_SRC) $(wildcard common/*.h batch/*.h tests/fuzz/*.h) \
	cgi-bin/metric_data_post.c $(LUA_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC) $(FUZZ_LIBS)

fuzz: deps-check $(FUZZ)
	@set -e; for f in $(FUZZ); do \
		n=$${f#tests/fuzz/fuzz_}; d=$(FUZZ_DIR)/$$n; \
		rm -rf $$d && mkdir -p $$d; \
		cp tests/fuzz/corpus/$$n/* $$d/ 2>/dev/null || true; \
		echo "fuzz $$n: $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_DIR)/$$n- $$d > $(FUZZ_DIR)/$$n.log 2>&1 || \
			{ tail -40 $(FUZZ_DIR)/$$n.log; echo "fuzz $$n: FAILED"; exit 1; }; \
		grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_DIR)/$$n.log | tail -1; \
	done

# The request-path benchmarks (bench/README.md); about 3 minutes.
bench: all
	bash bench/run.sh

.PHONY: all bench check check-cluster check-valgrind deps-check install install-files install-dirs uninstall clean fuzz

-include $(COMMON_SRC:.c=.d) $(CGIS:=.d) $(BATCH_SRC:.c=.d) $(UNIT:=.d)
