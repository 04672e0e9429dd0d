# StrideCue — `make demo` and `make test` work on a fresh Debian/Ubuntu machine.
SWIFT      ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX     ?= /usr/local
RELEASE_BIN = .build/release/stridecue

# Debian packages the build and the tests need (headers and the tools tests drive).
# ableton-link-dev (header-only C++, with libasio-dev) and g++'s C++ library headers: the CLink target.
BUILD_PACKAGES = pkg-config gcc g++ libasound2-dev libsndfile1-dev libsamplerate0-dev flite1-dev libebur128-dev libqrencode-dev \
                 libavformat-dev libavcodec-dev libswresample-dev libavutil-dev libsystemd-dev ableton-link-dev
TEST_PACKAGES  = alsa-utils ffmpeg libyaml-dev chromium chromium-driver python3-venv iproute2 $(SERVER_PACKAGES)
# Real sound servers for the live tests and benchmarks (scripts/sound-server.sh starts them).
# Debian 12's pipewire-alsa conflicts with pulseaudio, so PipeWire's ALSA plugin is unpacked from
# its package file into .build/pipewire-alsa instead of installed.
SERVER_PACKAGES = pulseaudio pulseaudio-utils libasound2-plugins pipewire pipewire-bin wireplumber dbus
PIPEWIRE_ALSA   = .build/pipewire-alsa
# Selenium (PyPI) drives Chromium for the coach's page test; it lives in a venv under .build.
BROWSER_VENV   = .build/browser-venv
# bluezoo (PyPI), a mock of BlueZ's D-Bus API, and the python-sdbus it brings, for the sensor
# tests (Tests/Sensor: a private dbus-daemon, two adapters, a scripted footpod).
SENSOR_VENV    = .build/sensor-venv
BLUEZOO        = bluezoo==1.0.2
BENCH_PACKAGES = klick time bc alsa-utils ffmpeg python3-venv $(SERVER_PACKAGES)

.PHONY: all build demo test check-swift bench deps test-deps bench-deps install install-files golden clean

all: build

# Installs what is missing, with sudo when not root; says plainly what to do when it cannot.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "stridecue: please install:$$missing (no apt-get on this machine)" >&2; exit 1; fi; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; \
	  else echo "stridecue: please install as root: apt-get install$$missing" >&2; exit 1; fi; \
	  echo "Installing$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing \
	    || { echo "stridecue: could not install$$missing; install them and run make again" >&2; exit 1; }; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_PACKAGES))

test-deps: deps
	$(call apt_install,$(TEST_PACKAGES))
	@$(BROWSER_VENV)/bin/python -c "import selenium" 2>/dev/null || { \
	  python3 -m venv $(BROWSER_VENV) && $(BROWSER_VENV)/bin/pip install -q selenium; }
	@$(SENSOR_VENV)/bin/python -c "import bluezoo, sdbus" 2>/dev/null || { \
	  python3 -m venv $(SENSOR_VENV) && $(SENSOR_VENV)/bin/pip install -q $(BLUEZOO); }
	@$(MAKE) --no-print-directory $(PIPEWIRE_ALSA)/.unpacked

$(PIPEWIRE_ALSA)/.unpacked:
	@rm -rf $(PIPEWIRE_ALSA) && mkdir -p $(PIPEWIRE_ALSA)/deb
	@cd $(PIPEWIRE_ALSA)/deb && { apt-get download pipewire-alsa >/dev/null 2>&1 \
	  || { apt-get update -qq && apt-get download pipewire-alsa >/dev/null; } } \
	  || { echo "stridecue: could not download pipewire-alsa (PipeWire's ALSA plugin) for the tests" >&2; exit 1; }
	dpkg -x $(PIPEWIRE_ALSA)/deb/pipewire-alsa_*.deb $(PIPEWIRE_ALSA)
	@touch $@

bench-deps: deps
	$(call apt_install,$(BENCH_PACKAGES))
	@$(SENSOR_VENV)/bin/python -c "import bluezoo, sdbus" 2>/dev/null || { \
	  python3 -m venv $(SENSOR_VENV) && $(SENSOR_VENV)/bin/pip install -q $(BLUEZOO); }
	@$(MAKE) --no-print-directory $(PIPEWIRE_ALSA)/.unpacked

# The Swift runtime is linked in: `make install` copies one binary that runs without a Swift
# toolchain on the machine (a Raspberry Pi at the track), and it starts about 5 ms sooner.
# stridecue-remote, installed next to it, holds the coach's remote's server: `play --remote` and
# `coach` run in it, so the rest never loads Hummingbird and SwiftNIO.
build: deps
	$(SWIFT) build -c release --product stridecue --static-swift-stdlib
	$(SWIFT) build -c release --product stridecue-remote --static-swift-stdlib

# Renders the bum-kicks drill to bum-kicks.wav and plays it when a sound card answers.
# It builds only the `stridecue` product, and in debug. The demo never starts stridecue-remote,
# whose Hummingbird and SwiftNIO in release made a fresh clone's first run take 8 minutes. On a
# fresh clone, `make demo` with a debug build of stridecue used 58 s of CPU, with the release build
# and the static runtime 116 s (docs/benchmarks.md). The debug build renders the same bytes
# (in about a second instead of 50 ms), and it is the build `make test` goes on from.
# `make` and `make install` build both programs, in release.
DEBUG_BIN = .build/debug/stridecue
demo: deps
	$(SWIFT) build --product stridecue
	$(DEBUG_BIN) render bum-kicks -o bum-kicks.wav
	@echo "Wrote bum-kicks.wav"
	@$(DEBUG_BIN) play bum-kicks; status=$$?; \
	if [ $$status = 69 ]; then echo "(no sound card answered: bum-kicks.wav is ready to copy to a phone)"; \
	elif [ $$status != 0 ]; then exit $$status; fi

# The tests run in a few processes side by side (scripts/run-tests.sh: most of their time is spent
# waiting on the real clock), and fail if they leave any process of theirs running
# (scripts/no-leftovers.sh). The install check, which needs no test, runs beside them.
test: test-deps check-swift
	$(SWIFT) build --build-tests
	@scripts/check-install.sh .build/debug/stridecue >.build/check-install.log 2>&1 & install=$$!; \
	scripts/no-leftovers.sh scripts/run-tests.sh; tests=$$?; \
	wait $$install; installed=$$?; echo "=== install check (exit $$installed)"; cat .build/check-install.log; \
	[ $$tests = 0 ] && [ $$installed = 0 ]

# The libFuzzer target over the YAML reader, the preset decoder and the editor, under
# AddressSanitizer, for FUZZ_SECONDS. Seeds: Tests/FuzzCorpus, the shipped presets and the
# malformed corpus; what it learns stays in $(FUZZ_DIR)/corpus, a crash in $(FUZZ_DIR)/crash-*
# (replay it with `swift run StrideCueFuzz FILE` and make it a test). Then every input it kept
# that StrideCue's reader accepts must read the same in libyaml (a differential check).
FUZZ_SECONDS ?= 300
FUZZ_DIR      = .build-fuzz
FUZZ_BIN      = $(FUZZ_DIR)/debug/StrideCueFuzz
.PHONY: fuzz
fuzz: test-deps
	mkdir -p $(FUZZ_DIR)/corpus
	@echo "Building the fuzzer (log: $(FUZZ_DIR)/build.log)"
	@$(SWIFT) build -c debug --scratch-path $(FUZZ_DIR) --product StrideCueFuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library >$(FUZZ_DIR)/build.log 2>&1 \
	  || { grep -v 'Cannot export local symbol' $(FUZZ_DIR)/build.log >&2; exit 1; }
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
	  -dict=Tests/FuzzCorpus/yaml.dict -artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 \
	  $(FUZZ_DIR)/corpus Tests/FuzzCorpus/seeds Presets Tests/StrideCueCLITests/Malformed
	@echo "Checking every input the fuzzer kept against libyaml"
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter everyCorpusDocumentWeAcceptLibYAMLReadsTheSame || [ "$(FUZZ_DISAGREEMENT)" = warn ]

bench: bench-deps build
	scripts/bench.sh $(RELEASE_BIN)
	scripts/bench-play.sh $(RELEASE_BIN)
	scripts/bench-servers.sh $(RELEASE_BIN)
	scripts/bench-play-music.sh $(RELEASE_BIN)
	scripts/bench-cues.sh $(RELEASE_BIN)
	scripts/bench-export.sh $(RELEASE_BIN)
	scripts/bench-remote.sh $(RELEASE_BIN)
	scripts/bench-sensor.sh $(RELEASE_BIN)
	scripts/bench-link.sh $(RELEASE_BIN)

# Re-records the reference WAVs of the built-in click sounds used by the golden tests.
golden:
	$(SWIFT) build --product stridecue
	STRIDECUE_RECORD=1 $(SWIFT) test --filter Golden

install: build
	$(MAKE) --no-print-directory install-files BIN=$(RELEASE_BIN) CONFIG=release

# The binary and stridecue-remote beside it, the drills and sounds, completions for bash, zsh and fish (ArgumentParser writes
# them from the commands themselves) and the stridecue(1) man page (its generate-manual tool, run
# on the same binary, so the page always matches the commands).
BIN    ?= $(RELEASE_BIN)
CONFIG ?= release
MANDATE = $(shell git log -1 --format=%cs 2>/dev/null || date +%F)
install-files:
	$(SWIFT) build -c $(CONFIG) --product generate-manual
	rm -rf .build/man && mkdir -p .build/man
	.build/$(CONFIG)/generate-manual $(BIN) --date $(MANDATE) --output-directory .build/man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/stridecue $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/stridecue
	install -m 755 $(dir $(BIN))stridecue-remote $(DESTDIR)$(PREFIX)/bin/stridecue-remote
	cp -r Presets Sounds $(DESTDIR)$(PREFIX)/share/stridecue/
	install -m 644 .build/man/stridecue.1 $(DESTDIR)$(PREFIX)/share/man/man1/stridecue.1
	$(BIN) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/stridecue
	$(BIN) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_stridecue
	$(BIN) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/stridecue.fish

clean:
	rm -rf .build $(FUZZ_DIR) bum-kicks.wav
