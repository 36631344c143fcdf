# ByteFreezer in C. `make` builds everything; see README.md for the other targets.
# Sources are discovered by directory so that adding a module needs no Makefile edit:
#   common/*.c                      -> build/lib/libbfcommon.a
#   <daemon>/*.c (minus main.c)     -> build/lib/lib<daemon>.a ; <daemon>/main.c -> build/bin/bytefreezer-<daemon>
#   test/unit/test_<area>_*.c       -> build/test/test_<area>_* (links lib<area>.a when area is a daemon)
#   test/fuzz/fuzz_<area>_*.c       -> build/fuzz/fuzz_<area>_* (clang, libFuzzer + ASan/UBSan)
#   test/bench/bench_<area>_*.c     -> build/bench/bench_<area>_*

CC      ?= cc
BUILD   ?= build
DAEMONS := proxy receiver piper packer
.DEFAULT_GOAL := all
PKGS    := libuv libmicrohttpd libcurl jansson libzstd yaml-0.1 libpcre2-8 libmaxminddb zlib openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
HAVE_SNAPPY := $(shell test -e /usr/include/snappy-c.h && echo 1)
ifeq ($(HAVE_SNAPPY),1)
PKG_CFLAGS += -DBF_HAVE_SNAPPY=1
PKG_LIBS   += -lsnappy
endif
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
WARN    := -Wall -Wextra -Werror
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2
OPT     ?= -O2 -g
CFLAGS  ?=
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -MMD -MP -Icommon $(PKG_CFLAGS) -DBF_VERSION='"$(VERSION)"'
LDFLAGS ?=
LDLIBS  += $(PKG_LIBS)

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
COMMON_LIB := $(BUILD)/lib/libbfcommon.a

define daemon_rules
$(1)_SRC := $$(filter-out $(1)/main.c,$$(wildcard $(1)/*.c))
$(1)_OBJ := $$($(1)_SRC:%.c=$(BUILD)/obj/%.o)
$(BUILD)/lib/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^ $(BUILD)/obj/empty.o
$(BUILD)/bin/bytefreezer-$(1): $(BUILD)/obj/$(1)/main.o $(BUILD)/lib/lib$(1).a $(COMMON_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rules,$(d))))

# a daemon is built once its main.c exists (lets the tree stay green while a daemon is being written)
BUILT_DAEMONS := $(foreach d,$(DAEMONS),$(if $(wildcard $(d)/main.c),$(d)))
BINS := $(BUILT_DAEMONS:%=$(BUILD)/bin/bytefreezer-%)

UNIT_SRC  := $(wildcard test/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
BENCH_SRC := $(wildcard test/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRC:test/bench/%.c=$(BUILD)/bench/%)
# area of a test file: test_<area>_x.c -> <area>
area = $(word 2,$(subst _, ,$(notdir $(1))))
arealib = $(if $(filter $(call area,$(1)),$(DAEMONS)),$(BUILD)/lib/lib$(call area,$(1)).a)

.PHONY: all asan deps test unit bench install clean fuzz demo test-node
all: $(BINS) $(UNIT_BINS) $(BENCH_BINS)

$(BUILD)/obj/empty.o:
	@mkdir -p $(@D)
	echo 'typedef int bf_empty_unit;' | $(CC) -x c -c -o $@ -

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# --version must follow the commit: bf_daemon.o is rebuilt whenever the version string changes.
VERSION_STAMP := $(BUILD)/version.stamp
$(shell mkdir -p $(BUILD); echo '$(VERSION)' | cmp -s - $(VERSION_STAMP) || echo '$(VERSION)' > $(VERSION_STAMP))
$(BUILD)/obj/common/bf_daemon.o: $(VERSION_STAMP)

$(COMMON_LIB): $(COMMON_OBJ) $(BUILD)/obj/empty.o
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(foreach d,$(DAEMONS),$(BUILD)/lib/lib$(d).a): $(BUILD)/obj/empty.o

.SECONDEXPANSION:
$(BUILD)/test/test_%: $(BUILD)/obj/test/unit/test_%.o $$(call arealib,test_%) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/bench/bench_%: $(BUILD)/obj/test/bench/bench_%.o $$(call arealib,bench_%) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- fuzzing: everything rebuilt with clang + libFuzzer + ASan/UBSan ----
FUZZ_SRC  := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRC:test/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Icommon $(PKG_CFLAGS) -DBF_VERSION='"fuzz"' \
  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_SRC := $(COMMON_SRC) $(foreach d,$(DAEMONS),$(filter-out $(d)/main.c,$(wildcard $(d)/*.c)))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(BUILD)/fuzzobj/%.o)
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/fuzz/libfuzzall.a: $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(BUILD)/fuzz/libfuzzall.a
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)
fuzz: $(FUZZ_BINS)

asan:
	$(MAKE) BUILD=build-asan OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	  LDFLAGS='-fsanitize=address,undefined' HARDEN='-fstack-protector-strong' all

deps:
	@sh test/tools/deps.sh

unit: all
	@sh test/tools/run-unit.sh $(BUILD)

test: deps
	$(MAKE) all
	$(MAKE) fuzz
	bash test/run-all.sh

bench: deps all
	bash test/bench/run-bench.sh

demo: deps all
	bash test/tools/demo.sh

PREFIX ?= /usr/local
install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj $(BUILD)/fuzzobj -name '*.d' 2>/dev/null)
