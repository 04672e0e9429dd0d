# StrideCue — `make demo` and `make test` work on a fresh Debian/Ubuntu machine.
SWIFT      ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX     ?= /usr/local
RELEASE_BIN = .build/release/stridecue

# Debian packages the build and the tests need (headers and the tools tests drive).
BUILD_PACKAGES = pkg-config gcc libasound2-dev libsndfile1-dev libsamplerate0-dev flite1-dev libebur128-dev \
                 libavformat-dev libavcodec-dev libswresample-dev libavutil-dev
TEST_PACKAGES  = alsa-utils ffmpeg libyaml-dev
BENCH_PACKAGES = klick time bc alsa-utils ffmpeg

.PHONY: all build demo test bench deps test-deps bench-deps install golden clean

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

bench-deps: deps
	$(call apt_install,$(BENCH_PACKAGES))

# The Swift runtime is linked in: `make install` copies one binary that runs without a Swift
# toolchain on the machine (a Raspberry Pi at the track), and it starts about 5 ms sooner.
build: deps
	$(SWIFT) build -c release --product stridecue --static-swift-stdlib

# Renders the bum-kicks drill to bum-kicks.wav and plays it when a sound card answers.
demo: build
	$(RELEASE_BIN) render bum-kicks -o bum-kicks.wav
	@echo "Wrote bum-kicks.wav"
	@$(RELEASE_BIN) play bum-kicks; status=$$?; \
	if [ $$status = 69 ]; then echo "(no sound card answered: bum-kicks.wav is ready to copy to a phone)"; \
	elif [ $$status != 0 ]; then exit $$status; fi

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: bench-deps build
	scripts/bench.sh $(RELEASE_BIN)
	scripts/bench-play.sh $(RELEASE_BIN)
	scripts/bench-cues.sh $(RELEASE_BIN)
	scripts/bench-export.sh $(RELEASE_BIN)

# Re-records the reference WAVs of the built-in click sounds used by the golden tests.
golden:
	$(SWIFT) build --product stridecue
	STRIDECUE_RECORD=1 $(SWIFT) test --filter Golden

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/stridecue
	install -m 755 $(RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/stridecue
	cp -r Presets Sounds $(DESTDIR)$(PREFIX)/share/stridecue/

clean:
	rm -rf .build bum-kicks.wav
