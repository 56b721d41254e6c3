# Front door: `make` builds, `make run` starts a one-machine cluster, `make check` runs every test.
# Missing Debian packages are installed first (apt-get update only when something is missing).

BUILD ?= build
ASAN_BUILD ?= build-asan
PACKAGES := gcc clang meson ninja-build pkg-config libjansson-dev libuv1-dev libmicrohttpd-dev \
            libcurl4-openssl-dev libarchive-dev libraft-dev libldns-dev libcmocka-dev libssl-dev \
            python3 python3-pytest python3-requests curl iproute2 iptables procps libclang-rt-14-dev \
            docker-registry apache2-utils busybox-static zstd \
            runc crun containernetworking-plugins libpcre2-dev tzdata \
            dnsutils dnsperf unbound haproxy openssl python3-yaml groff-base prometheus \
            libnftables-dev nftables
HTTP ?= 0.0.0.0:8080
DATA_DIR ?= .strata

.PHONY: all deps build run check unit unit-asan e2e fuzz bench bench-smoke clean install

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	meson setup --reconfigure $(BUILD) >/dev/null
	ninja -C $(BUILD)

run: build
	$(BUILD)/strata dev --data-dir $(DATA_DIR) --http $(HTTP)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

check: build $(ASAN_BUILD)/build.ninja
	meson setup --reconfigure $(ASAN_BUILD) >/dev/null
	ninja -C $(ASAN_BUILD)
	/usr/bin/python3 test/run_all.py --build $(BUILD) --asan-build $(ASAN_BUILD)

fuzz: deps
	/usr/bin/python3 test/run_all.py --only fuzz --fuzz-seconds $${FUZZ_SECONDS:-300}

bench: build
	/usr/bin/python3 bench/bench_api.py --build $(BUILD)
	/usr/bin/python3 bench/bench_launch.py --build $(BUILD)
	/usr/bin/python3 bench/bench_events.py --build $(BUILD)
	/usr/bin/python3 bench/bench_scale.py --build $(BUILD)

bench-smoke: build
	/usr/bin/python3 bench/bench_api.py --build $(BUILD) --smoke
	/usr/bin/python3 bench/bench_launch.py --build $(BUILD) --smoke
	/usr/bin/python3 bench/bench_events.py --build $(BUILD) --smoke
	/usr/bin/python3 bench/bench_scale.py --build $(BUILD) --smoke

# make install [DESTDIR=/staging] [PREFIX=/usr/local]: the binary, systemd units (their
# ExecStart names $(PREFIX)/bin/strata), man pages and bash completion (docs/OPERATIONS.md).
PREFIX ?= /usr/local
install: build
	install -D -m 0755 $(BUILD)/strata $(DESTDIR)$(PREFIX)/bin/strata
	for u in dist/systemd/*.service; do \
		sed 's|/usr/local/bin/strata|$(PREFIX)/bin/strata|' $$u > $(BUILD)/$$(basename $$u); \
		install -D -m 0644 $(BUILD)/$$(basename $$u) $(DESTDIR)/lib/systemd/system/$$(basename $$u); \
	done
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	$(BUILD)/strata man write $(DESTDIR)$(PREFIX)/share/man/man1 >/dev/null
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	$(BUILD)/strata completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/strata

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
