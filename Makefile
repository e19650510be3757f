# klptrace: make the livepatch lifecycle visible.
#
#   make            build klptrace.ko, the test modules, libklptrace, klptop
#   make check      all tests: unit tests, then every e2e scenario in the VM
#   make demo       boot the VM into a blocked transition, run klptop on it
#   make bench      benchmarks (bench/README.md), results in bench/results/
#   make unit       only the tests that need no kernel
#   make e2e [SCENARIOS="a b"]   only the VM scenarios
#   make deps       install the Debian packages (idempotent; run by the above)
#   make native-kernel   Debian's linux-source-6.1 with the native klp trace
#                   events (kernel/native/: the patch series), configured
#                   small for the test VM, built with ccache into
#                   build/native (tests/run.sh boots it: KFLAVOURS=native)
#   make check-fresh   make check in a fresh debootstrap'd bookworm (CI)
#   make install [PREFIX=/usr/local] [DESTDIR=]   what the Debian packages
#                   hold: klptop, libklptrace (.so, .a, header, .pc), the
#                   man pages, klptop's bash completion, and the DKMS
#                   source of klptrace.ko in $(DESTDIR)$(PREFIX)/src (not
#                   registered: make -C kernel dkms-install does that);
#                   refused if that source is the klptrace-dkms package's
#                   or registered with DKMS
#   make uninstall [same variables]
#   make deb        the Debian packages into build/deb (debian/)
#   make readme-captures   README.md's klptop screens made again by klptop
#                   (tui/readme-captures.sh: the fixture recording replayed
#                   in tmux; the tui tests check they are current)
#   make clean
#
# `make` is a release build: no sanitizers, no -Werror.  The test targets
# below build with WERROR=-Werror, and tests/run.sh adds the sanitizer
# builds its tests run.
#
# The kernel is the installed Debian image (scripts/kver.sh); override
# with KVER=<version> or KDIR=<headers dir>.  On a fresh machine there is
# no kernel yet when make starts: the targets below install the packages
# first (deps) and then build in a sub-make, which resolves KVER anew.
# So KVER/KDIR are exported only once they are known: an empty value
# must not reach the sub-make and stick there.
ifeq ($(strip $(KVER)),)
KVER := $(shell KDIR='$(KDIR)' sh scripts/kver.sh 2>/dev/null)
endif
ifneq ($(strip $(KVER)),)
ifeq ($(strip $(KDIR)),)
KDIR := /lib/modules/$(KVER)/build
endif
export KVER KDIR
endif

# Everything the tests and the VM image use: klptrace.ko, the test
# modules, libklptrace and its tools, klptop.
all: deps-build
	@$(MAKE) --no-print-directory build

build: modules
	$(MAKE) -C lib
	$(MAKE) -C tui

deps:
	@sh scripts/deps.sh all

deps-build:
	@sh scripts/deps.sh build

modules: kernel-module test-modules

# One line, not a kbuild error, when the kernel or its headers are
# missing (a KVER= or KDIR= that names no installed headers).
define need_kdir
	@test -n "$(KVER)" || { echo "make: no Debian kernel found: run 'make deps' or set KVER=" >&2; exit 1; }
	@test -f "$(KDIR)/Makefile" || { echo "make: no headers for kernel $(KVER) in $(KDIR): apt-get install linux-headers-$(KVER), or set KDIR=" >&2; exit 1; }
endef

kernel-module:
	$(need_kdir)
	$(MAKE) -C kernel/klptrace

test-modules:
	$(need_kdir)
	$(MAKE) -C tests/modules

# The tests' builds: warnings are errors (exported to every sub-make).
check unit e2e demo: export WERROR = -Werror

check: deps
	@$(MAKE) --no-print-directory build
	@tests/run.sh all

unit: deps
	@$(MAKE) --no-print-directory build
	@tests/run.sh unit

e2e: deps
	@$(MAKE) --no-print-directory build
	@tests/run.sh e2e $(SCENARIOS)

demo: deps
	@$(MAKE) --no-print-directory build
	@tests/vm/demo.sh

bench: deps
	@$(MAKE) --no-print-directory build
	@bench/run.sh

# make check on a brand-new Debian bookworm (debootstrap minbase plus
# make and git), as a newcomer would run it: tests/check-fresh.sh.
check-fresh:
	@tests/check-fresh.sh check

native-kernel: deps
	@kernel/native/build.sh

# No kernel module is built here: the DKMS source is installed, and dkms
# builds it for each kernel (kernel/Makefile: dkms-install registers it).
install:
	$(MAKE) -s -C kernel dkms-tree-check
	$(MAKE) -C lib install
	$(MAKE) -C tui install
	$(MAKE) -C kernel dkms-tree

uninstall:
	$(MAKE) -s -C kernel dkms-tree-check
	$(MAKE) -C lib uninstall
	$(MAKE) -C tui uninstall
	$(MAKE) -C kernel dkms-tree-remove

# The .debs of debian/ (dpkg-buildpackage -us -uc -b in a copy of the
# committed tree), into build/deb: tests/pkg/build-debs.sh.
deb:
	@tests/pkg/build-debs.sh

readme-captures:
	@$(MAKE) --no-print-directory -C tui
	@tui/readme-captures.sh

clean:
	-$(MAKE) -C kernel/klptrace clean
	-$(MAKE) -C tests/modules clean
	-$(MAKE) -C lib clean
	rm -rf build

.PHONY: all build deps deps-build modules kernel-module test-modules check \
	readme-captures \
	unit e2e demo bench check-fresh native-kernel install uninstall deb \
	clean
