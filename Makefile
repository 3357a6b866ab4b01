# newsdex - one non-recursive Makefile.
#
#   make            build libnewsdex and both programs under build/
#   make run        install what is missing, build, index corpus/, search it
#   make serve      the same, then serve the search page (PORT=8080)
#   make test       install what is missing, build, run every test
#   make check-layers  includes run down the layers of core/
#   make bench      small benchmark against Xapian and SQLite FTS5
#   make faults     every allocation failed in turn (make test: a sample)
#   make soak       the indexer killed at random, SECONDS=600 by default
#   make install    PREFIX=/usr/local DESTDIR=
#   SAN=1           AddressSanitizer + UndefinedBehaviorSanitizer
#   WERROR=1        warnings are errors (CI)
#   XAPIAN=0        build without the Xapian engine

CC      ?= cc
CXX     ?= c++
PREFIX  ?= /usr/local
XAPIAN  ?= 1
B       := build

WARN     := -Wall -Wextra -Wpedantic -Wshadow
CWARN    := $(WARN) -Wstrict-prototypes -Wmissing-prototypes
OPT      ?= -O2 -g
CPPFLAGS += -Icore/include -Icore -D_GNU_SOURCE -MMD -MP
CFLAGS   += -std=c11 $(OPT) $(CWARN) -fPIC -pthread
CXXFLAGS += -std=c++17 $(OPT) $(WARN) -fPIC -pthread
LDLIBS   += -lstemmer -lutf8proc -ljansson -lz -lm -lpthread

ifeq ($(WERROR),1)
CFLAGS   += -Werror
CXXFLAGS += -Werror
endif
ifeq ($(SAN),1)
B        := build-san
SANFL    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS   += $(SANFL)
CXXFLAGS += $(SANFL)
LDFLAGS  += $(SANFL)
endif

CORE_SRC := $(wildcard core/*.c core/*/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
ifeq ($(XAPIAN),1)
CPPFLAGS += -DNDX_WITH_XAPIAN
CXX_SRC  := $(wildcard core/xapian/*.cc)
CORE_OBJ += $(CXX_SRC:%.cc=$(B)/%.o)
LDLIBS   += -lxapian -lstdc++
endif

LIB      := $(B)/libnewsdex.a
INDEXER  := $(B)/newsdex-index
SEARCHER := $(B)/newsdex-search
IDX_OBJ  := $(patsubst %.c,$(B)/%.o,$(wildcard indexer/*.c))
SRCH_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard searcher/*.c)) \
            $(B)/searcher/web_assets.o
# The search page's files, embedded in newsdex-search (searcher/web.h).
WEB_SRC  := $(sort $(wildcard searcher/web/*))

TEST_SRC := $(filter-out tests/test_main.c,$(wildcard tests/test_*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o) $(B)/tests/test_main.o $(B)/tests/support.o
TESTBIN  := $(B)/newsdex-tests

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

all: $(LIB) $(INDEXER) $(SEARCHER)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(INDEXER): $(IDX_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(SEARCHER): $(SRCH_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/searcher/web_assets.c: $(WEB_SRC) scripts/embed-web
	@mkdir -p $(@D)
	scripts/embed-web $@ $(WEB_SRC)

$(B)/searcher/web_assets.o: $(B)/searcher/web_assets.c
	$(CC) $(CPPFLAGS) -Isearcher $(CFLAGS) -c $< -o $@

# The suite registry lists every tests/test_<name>.c; each defines
# CU_TestInfo <name>_tests[].
$(B)/tests/suites.inc: $(TEST_SRC)
	@mkdir -p $(@D)
	@for f in $(TEST_SRC); do n=$${f#tests/test_}; echo "SUITE($${n%.c})"; done > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(B)/tests/test_main.o: tests/test_main.c $(B)/tests/suites.inc
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(B)/tests $(CFLAGS) -c $< -o $@

# Every allocation of the library goes through tests/support.c's fault
# counter (test_faults.c makes each fail in turn).
WRAP_ALLOC := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup

$(TESTBIN): $(TEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) $(WRAP_ALLOC) -o $@ $^ $(LDLIBS) -lcunit

deps:
	@scripts/install-deps

test: deps
	@$(MAKE) --no-print-directory all $(TESTBIN)
	@$(MAKE) --no-print-directory check-layers
	@scripts/run-tests $(B)

# Includes run down the layers of core/ (scripts/check-layers says how).
check-layers:
	@scripts/check-layers --self-test
	@scripts/check-layers

check: test

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-example $(B)

PORT ?= 8080
serve: deps
	@$(MAKE) --no-print-directory all
	@scripts/serve $(B) $(PORT)

bench: deps
	@$(MAKE) --no-print-directory all $(B)/ndx-bench $(B)/ndx-scale \
		$(B)/ndx-dupes
	@bench/run --small --build $(B)

fuzz: 
	@scripts/fuzz-smoke

# Every allocation of indexing, commit and search failed in turn (make
# test fails a sample of them); with SAN=1 leaks are reported too.
faults: deps
	@$(MAKE) --no-print-directory $(TESTBIN)
	@NDX_FAULTS=all $(TESTBIN) faults

# The indexer killed at random moments, both engines, for SECONDS (600);
# make test runs it for 3 s on the native engine.
soak: deps
	@$(MAKE) --no-print-directory all
	@ENGINES="native xapian" tests/kill-check $(or $(SECONDS),600) $(B)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include/newsdex/sys \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(INDEXER) $(SEARCHER) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib
	install -m 644 core/include/newsdex/*.h $(DESTDIR)$(PREFIX)/include/newsdex
	install -m 644 core/include/newsdex/sys/*.h \
	    $(DESTDIR)$(PREFIX)/include/newsdex/sys
	install -m 644 docs/*.1 $(DESTDIR)$(PREFIX)/share/man/man1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS@|$(LDLIBS)|' scripts/newsdex.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/newsdex.pc

clean:
	rm -rf build build-san

.PHONY: all deps test check check-layers run serve bench fuzz faults soak install clean

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# benchmark
# ndx-bench builds and queries one engine in process (bench/run drives it);
# ndx-scale grows a corpus for runs at millions of passages.
# With Xapian it also drives libxapian directly (the xapian-plain peer,
# bench/xapian_plain.cc): benchmark code, never part of libnewsdex.
BENCH_OBJ := $(B)/bench/ndx_bench.o
ifeq ($(XAPIAN),1)
BENCH_OBJ += $(B)/bench/xapian_plain.o
endif
$(B)/ndx-bench: $(BENCH_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lsqlite3

$(B)/ndx-scale: $(B)/bench/ndx_scale.o
	$(CC) $(LDFLAGS) -o $@ $^ -lz -lm

# ndx-neardup-pairs lists the article pairs near the near-duplicate
# threshold (docs/neardup.md).
$(B)/ndx-neardup-pairs: $(B)/bench/neardup_pairs.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ndx-probe-grid runs the known-item probes over a grid of BM25 k1 and b
# (docs/ranking.md).
$(B)/ndx-probe-grid: $(B)/bench/probe_grid.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ndx-dupes counts the result pages holding two hits of one source with
# one title (bench/run reports it for the native engine).
$(B)/ndx-dupes: $(B)/bench/dupes.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ndx-text-cost times reading passages' stored text three ways
# (core/native/segment.h quotes it); white-box, so it lives in tests/.
$(B)/ndx-text-cost: $(B)/tests/probes/text_cost.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ndx-postings-cost decodes every postings list of segments and prints
# what other encodings of them would take; white-box, so in tests/.
$(B)/ndx-postings-cost: $(B)/tests/probes/postings_cost.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ndx-loadgen drives the query socket: N connections for T seconds.
$(B)/ndx-loadgen: $(B)/bench/loadgen.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
