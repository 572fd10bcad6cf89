# ngx_faas: build, test and run.  See README.md.

CC       ?= cc
BUILD    ?= build
NGINX_SRC ?= /usr/share/nginx/src
NGINX_BIN ?= /usr/sbin/nginx

# nginx releases, as tarballs of their tags, that the module is built
# against besides Debian's: each --with-compat, and the newest in full,
# for a second run of the integration tests
NGINX_VENDOR   ?= ../shared/vendor/nginx
NGINX_RELEASES  = $(shell ls $(NGINX_VENDOR)/nginx-*.tar.gz 2>/dev/null \
                    | sed 's|.*/nginx-||; s|\.tar\.gz$$||' | sort -V)
NGINX_NEWEST    = $(lastword $(NGINX_RELEASES))
NGINX_OLDER     = $(filter-out $(NGINX_NEWEST),$(NGINX_RELEASES))

# where `make install` puts things (DESTDIR-aware); the packages use /usr
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
LIBDIR      ?= $(PREFIX)/lib
DOCDIR      ?= $(PREFIX)/share/doc/ngx-faas
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
UNITDIR     ?= /lib/systemd/system
RUNTIME_DIR ?= $(LIBDIR)/ngx_faas/runtime/node
NGINX_MODULES_DIR ?= /usr/lib/nginx/modules

WARN     = -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) $(CPPFLAGS) $(WARN) -std=gnu99 -Iengine -fPIC

ENGINE_SRCS = $(wildcard engine/*.c)
ENGINE_HDRS = $(wildcard engine/*.h)
ENGINE_OBJS = $(ENGINE_SRCS:engine/%.c=$(BUILD)/engine/%.o)
ENGINE_LIB  = $(BUILD)/engine/libfaas.a
ENGINE_LIBS = -lyaml -lcjson

MODULE_SRCS = $(wildcard ngx_faas_module/*.c) $(wildcard ngx_faas_module/*.h)
MODULE      = $(BUILD)/modules/ngx_http_faas_module.so

FAASD       = $(BUILD)/bin/faasd
FAASD_SRCS  = $(wildcard faasd/*.c)

# faasd's default runtime (-r): the source tree's for $(FAASD), which the
# tests and the demo run; the installed one for what `make install` puts
# in place, built apart so that no build path ends up installed
FAASD_RUNTIME ?= $(abspath runtime/node/bin/faas-worker.js)
FAASD_INST    = $(BUILD)/install/faasd
FAASD_INST_RUNTIME = $(RUNTIME_DIR)/bin/faas-worker.js

FAASCTL      = $(BUILD)/bin/faasctl
FAASCTL_SRCS = $(wildcard faasctl/*.c)
FAASCTL_HDRS = $(wildcard faasctl/*.h)

UNIT_SRCS   = $(wildcard engine/test/test_*.c)
UNIT_BINS   = $(UNIT_SRCS:engine/test/%.c=$(BUILD)/test/%)

FUZZ_SRCS   = $(wildcard engine/fuzz/fuzz_*.c)
FUZZ_BINS   = $(FUZZ_SRCS:engine/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 10

.PHONY: all setup build module engine faasd faasctl runtime unit fuzz \
        test test-unit test-runtime test-integration run bench \
        compat test-newest \
        bench-aggregate build-install install deb clean FORCE

all: build

setup:
	@scripts/setup

build: engine module faasd faasctl runtime

engine: $(ENGINE_LIB)

$(BUILD)/engine/%.o: engine/%.c $(ENGINE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(ENGINE_LIB): $(ENGINE_OBJS)
	rm -f $@
	ar rcs $@ $^

# The module is built --with-compat against Debian's nginx-dev tree, copied
# so that configure may write beside it.
module: $(MODULE)

# MODULE_CC_OPT and MODULE_LD_OPT add to nginx's --with-cc-opt and
# --with-ld-opt (debian/rules gives dpkg-buildflags' hardening there)
$(MODULE): config $(MODULE_SRCS) $(ENGINE_SRCS) $(ENGINE_HDRS)
	@NGX_FAAS_CC_OPT='$(MODULE_CC_OPT)' NGX_FAAS_LD_OPT='$(MODULE_LD_OPT)' \
	    scripts/build-module $(NGINX_SRC) $(BUILD)

faasd: $(FAASD)

$(FAASD): $(FAASD_SRCS) $(ENGINE_LIB) $(ENGINE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) \
	    -DFAASD_DEFAULT_RUNTIME='"$(FAASD_RUNTIME)"' \
	    -o $@ $(FAASD_SRCS) $(ENGINE_LIB) -lhiredis $(ENGINE_LIBS)

# rebuilt when RUNTIME_DIR changes
$(FAASD_INST).runtime: FORCE
	@mkdir -p $(dir $@)
	@echo '$(FAASD_INST_RUNTIME)' | cmp -s - $@ \
	    || echo '$(FAASD_INST_RUNTIME)' > $@

$(FAASD_INST): $(FAASD_SRCS) $(ENGINE_LIB) $(ENGINE_HDRS) $(FAASD_INST).runtime
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) \
	    -DFAASD_DEFAULT_RUNTIME='"$(FAASD_INST_RUNTIME)"' \
	    -o $@ $(FAASD_SRCS) $(ENGINE_LIB) -lhiredis $(ENGINE_LIBS)

faasctl: $(FAASCTL)

$(FAASCTL): $(FAASCTL_SRCS) $(FAASCTL_HDRS) $(ENGINE_LIB) $(ENGINE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -Ifaasctl -o $@ $(FAASCTL_SRCS) \
	    $(ENGINE_LIB) \
	    -lhiredis -lcjson $(ENGINE_LIBS)

runtime:
	@node --version >/dev/null

$(BUILD)/test/%: engine/test/%.c $(wildcard engine/test/*.h) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -o $@ $< $(ENGINE_SRCS) $(ENGINE_LIBS)

unit: $(UNIT_BINS)

test-unit: unit
	@set -e; for t in $(UNIT_BINS); do echo "# $$t"; $$t; done

$(BUILD)/fuzz/%: engine/fuzz/%.c $(ENGINE_SRCS) $(ENGINE_HDRS)
	@mkdir -p $(dir $@)
	clang -g -O1 -Iengine -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(ENGINE_SRCS) $(ENGINE_LIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
	    n=$$(basename $$f); mkdir -p $(BUILD)/corpus/$$n; \
	    echo "# $$n for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	        $(BUILD)/corpus/$$n engine/fuzz/corpus/$$n 2>&1 | tail -n 1; \
	done

test-runtime:
	cd runtime/node && node --test test/*.test.js

test-integration: build
	NGX_FAAS_BUILD=$(abspath $(BUILD)) NGINX_BIN=$(NGINX_BIN) \
	    prove -j2 -It/lib t/

# the module against every release in $(NGINX_VENDOR): older ones are
# compiled (the module alone), the newest is built in full and runs the
# integration tests too; build/nginx-VERSION keeps each tree, so a second
# run rebuilds only what changed
compat:
	@if [ -z "$(NGINX_RELEASES)" ]; then \
	    echo "compat: no nginx-*.tar.gz in $(NGINX_VENDOR), skipped"; \
	fi
	@set -e; for v in $(NGINX_OLDER); do \
	    echo "# module against nginx $$v (--with-compat)"; \
	    scripts/build-module $(NGINX_VENDOR)/nginx-$$v.tar.gz \
	        $(BUILD)/nginx-$$v; \
	done
	@set -e; for v in $(NGINX_NEWEST); do \
	    echo "# nginx $$v and the module (full build)"; \
	    scripts/build-module --full $(NGINX_VENDOR)/nginx-$$v.tar.gz \
	        $(BUILD)/nginx-$$v; \
	    ln -sfn ../bin $(BUILD)/nginx-$$v/bin; \
	    $(BUILD)/nginx-$$v/sbin/nginx -V 2>&1 | head -n 1; \
	done

# the integration tests again, on the newest nginx built above: those
# that run nginx (the others test faasd, faasctl and the packages alone)
NEWEST_SKIP = t/deb.t t/demo.t t/faasctl.t t/faasctl_release.t \
              t/faasd_redis.t t/faasd_notify.t t/structure.t
NEWEST_TESTS = $(filter-out $(NEWEST_SKIP),$(wildcard t/*.t))

test-newest: build compat
	@if [ -n "$(NGINX_NEWEST)" ]; then \
	    echo "# integration tests on nginx $(NGINX_NEWEST)"; \
	    NGX_FAAS_BUILD=$(abspath $(BUILD)/nginx-$(NGINX_NEWEST)) \
	    NGINX_BIN=$(abspath $(BUILD)/nginx-$(NGINX_NEWEST)/sbin/nginx) \
	        prove -j2 -It/lib $(NEWEST_TESTS); \
	fi

test: setup build test-unit test-runtime fuzz test-integration test-newest

run: setup build
	@scripts/run-demo

bench: setup build
	@bench/run
	@NGX_FAAS_BUILD=$(abspath $(BUILD)) bench/aggregate

# the aggregation part of `make bench` alone
bench-aggregate: setup build
	@NGX_FAAS_BUILD=$(abspath $(BUILD)) bench/aggregate

# what `make install` installs, built
build-install: $(FAASD_INST) $(FAASCTL) $(MODULE)

# faasd, faasctl, the runtime, faasd's unit and defaults, the module
install: build-install
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(RUNTIME_DIR)/bin $(DESTDIR)$(RUNTIME_DIR)/lib \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/default \
	    $(DESTDIR)$(NGINX_MODULES_DIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(FAASD_INST) $(DESTDIR)$(SBINDIR)/faasd
	install -m 755 $(FAASCTL) $(DESTDIR)$(BINDIR)/faasctl
	install -m 644 runtime/node/package.json $(DESTDIR)$(RUNTIME_DIR)/
	install -m 755 runtime/node/bin/faas-worker.js $(DESTDIR)$(RUNTIME_DIR)/bin/
	install -m 644 runtime/node/lib/*.js $(DESTDIR)$(RUNTIME_DIR)/lib/
	sed -e 's|/usr/sbin/faasd|$(SBINDIR)/faasd|' \
	    -e 's|/etc/default/ngx-faas|$(SYSCONFDIR)/default/ngx-faas|' \
	    conf/faasd.service > $(DESTDIR)$(UNITDIR)/faasd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/faasd.service
	install -m 644 conf/ngx-faas.default $(DESTDIR)$(SYSCONFDIR)/default/ngx-faas
	install -m 644 $(MODULE) $(DESTDIR)$(NGINX_MODULES_DIR)/
	install -m 644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 644 man/faasctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/faasd.8 $(DESTDIR)$(MANDIR)/man8/

# the Debian packages, in $(BUILD)/deb (see docs/install.md)
deb:
	@scripts/build-deb $(BUILD)/deb

clean:
	rm -rf $(BUILD)
