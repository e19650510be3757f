# klptrace: make the livepatch lifecycle visible.
#
#   make            build klptrace.ko, the test modules and libklptrace
#   make check      all tests: unit tests, then every e2e scenario in the VM
#   make demo       boot the VM into a blocked transition, run klptop on it
#   make bench      benchmarks (bench/README.md), results in bench/results/
#   make unit       only the tests that need no kernel
#   make e2e [SCENARIOS="a b"]   only the VM scenarios
#   make deps       install the Debian packages (idempotent; run by the above)
#   make clean
#
# The kernel is the installed Debian image (scripts/kver.sh); override
# with KVER=<version> or KDIR=<headers dir>.
# Computed when empty, so a sub-make run after `deps` finds the new image.
ifeq ($(strip $(KVER)),)
KVER := $(shell sh scripts/kver.sh 2>/dev/null)
endif
ifeq ($(strip $(KDIR)),)
KDIR := /lib/modules/$(KVER)/build
endif
export KVER KDIR

all: deps-build
	@$(MAKE) --no-print-directory modules
	$(MAKE) -C lib
	$(MAKE) -C tui

deps:
	@sh scripts/deps.sh all

deps-build:
	@sh scripts/deps.sh build

modules: kernel-module test-modules

kernel-module:
	@test -n "$(KVER)" || { echo "make: no Debian kernel found: run 'make deps' or set KVER=" >&2; exit 1; }
	$(MAKE) -C kernel/klptrace

test-modules:
	@test -n "$(KVER)" || { echo "make: no Debian kernel found: run 'make deps' or set KVER=" >&2; exit 1; }
	$(MAKE) -C tests/modules

check: deps
	@$(MAKE) --no-print-directory modules
	@tests/run.sh all

unit: deps
	@$(MAKE) --no-print-directory modules
	@tests/run.sh unit

e2e: deps
	@$(MAKE) --no-print-directory modules
	@tests/run.sh e2e $(SCENARIOS)

demo: deps
	@$(MAKE) --no-print-directory modules
	@tests/vm/demo.sh

bench: deps
	@$(MAKE) --no-print-directory modules
	@bench/run.sh

clean:
	-$(MAKE) -C kernel/klptrace clean
	-$(MAKE) -C tests/modules clean
	-$(MAKE) -C lib clean
	rm -rf build

.PHONY: all deps deps-build modules kernel-module test-modules check unit \
	e2e demo bench clean
