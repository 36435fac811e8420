# sendbench — build, run and test.
#
#   make run                      build, start the embedded PostgreSQL under var/, serve on :8080
#   make test                     every test against a throw-away PostgreSQL
#   make test SANITIZE=address,undefined
#   make valgrind                 unit tests under valgrind (no leaks allowed)
#   make bench                    performance harness (not part of make test)
#   make load                     ceiling + 60 s mixed load at 500 connections (tests/load/results.md)
#   make soak                     10 min mixed load, resident memory must not grow (tests/load/soak.md)
#   make cluster                  primary + hot standby, 3 servers, HAProxy on :8080 (Ctrl-C stops)
#   make test-cluster             failure drills on that topology (tests/cluster/drills.py)

CC      ?= cc
WARN     = -Wall -Wextra -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wshadow -Wvla -Wpointer-arith
OPT     ?= -O2 -g
PKGS     = libevent libevent_pthreads libevent_openssl jansson gsl libpq libcrypto libssl libsodium xlsxwriter libzip expat

# A build that explains itself: before anything compiles, every build goal
# checks that pkg-config finds the libraries and that libcsv's header (it has
# no .pc file) is there.  When one is missing the dependency step runs here,
# as `make run` runs it: as root it apt-get installs what is missing; as
# another user scripts/deps.sh names the Debian packages and the one command
# to install them, and make stops with that instead of a compiler error.
BUILD_GOALS := $(filter-out clean deps,$(or $(MAKECMDGOALS),all))
deps_found   = $(shell pkg-config --exists $(PKGS) 2>/dev/null && \
                 $(CC) -E -include csv.h -x c /dev/null >/dev/null 2>&1 && echo yes)
ifneq ($(BUILD_GOALS),)
ifneq ($(deps_found),yes)
ifneq ($(shell scripts/deps.sh >&2 && echo yes),yes)
$(error build libraries missing: run the command above, or make as root to install them)
endif
ifneq ($(deps_found),yes)
$(error the packages are installed but pkg-config still misses one of: $(PKGS) (or csv.h))
endif
endif
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Werror -Iinclude $(PKG_CFLAGS) -pthread
LDLIBS  += $(PKG_LIBS) -lcsv -lm -pthread

ifdef FUZZ
# libFuzzer targets (make fuzz): clang, every object instrumented.
CC       = clang
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=all
LDFLAGS += -fsanitize=fuzzer,address,undefined
BUILD    = build/fuzz
BINDIR   = bin/fuzz
else ifdef SANITIZE
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
BUILD    = build/san
BINDIR   = bin/san
else ifdef BENCH
# make bench: optimised objects of their own, so that -O3 never mixes with -O2.
BUILD    = build/bench
BINDIR   = bin/bench
else
BUILD    = build/rel
BINDIR   = bin
endif

SERVER_SRC   := $(wildcard server/*.c)
FORECAST_SRC := $(wildcard forecasts/*.c)
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
SQL_FILES    := $(sort $(wildcard sql/*.sql))

# With no server sources (the forecast library's own worktree) there is no
# server, no migrations and an empty libsendbench.a.
SERVER_OBJ   := $(if $(SERVER_SRC),$(SERVER_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/sql_migrations.o \
                $(BUILD)/gen/openapi_json.o)
LIB_OBJ      := $(filter-out $(BUILD)/server/main.o,$(SERVER_OBJ))
FORECAST_OBJ := $(FORECAST_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(BINDIR)/tests/%)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(BINDIR)/%)
FUZZ_SECONDS ?= 30

.PHONY: all deps run test unit valgrind bench bench-tools fuzz fuzz-build clean load soak backtest \
        cluster test-cluster bench-cluster
# Keep object files of unit tests between builds.
.SECONDARY:

all: $(if $(SERVER_SRC),$(BINDIR)/sendbench) $(UNIT_BIN)

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Migrations are compiled into the binary so that a deployed server needs no
# source tree beside it.
$(BUILD)/gen/sql_migrations.c: $(SQL_FILES) scripts/embed_sql.sh
	@mkdir -p $(dir $@)
	scripts/embed_sql.sh $(SQL_FILES) > $@

$(BUILD)/gen/sql_migrations.o: $(BUILD)/gen/sql_migrations.c
	$(CC) $(CFLAGS) -c $< -o $@

# The OpenAPI description served at /api/v1/openapi.json (server/openapi.c);
# tests/unit/test_openapi.c checks it against the route table.
$(BUILD)/gen/openapi_json.c: docs/openapi.json scripts/embed_file.sh
	@mkdir -p $(dir $@)
	scripts/embed_file.sh openapi_json docs/openapi.json > $@

$(BUILD)/gen/openapi_json.o: $(BUILD)/gen/openapi_json.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libsendbench.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libforecasts.a: $(FORECAST_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BINDIR)/sendbench: $(BUILD)/server/main.o $(BUILD)/libsendbench.a $(BUILD)/libforecasts.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/tests/%: $(BUILD)/tests/unit/%.o $(if $(SERVER_SRC),$(BUILD)/libsendbench.a) $(BUILD)/libforecasts.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/libsendbench.a $(BUILD)/libforecasts.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

# Each libFuzzer target runs for FUZZ_SECONDS under ASan and UBSan, starting
# from its seed corpus in tests/fuzz/corpus/<target>/.
fuzz: deps
	@SENDBENCH_EXTRA_PKGS="clang libclang-rt-14-dev" scripts/deps.sh
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

test: deps
	@SENDBENCH_EXTRA_PKGS="python3-jsonschema python3-openpyxl docker-compose haproxy" scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@BINDIR=$(BINDIR) tests/run.sh

unit: all
	@BINDIR=$(BINDIR) tests/run.sh --unit-only

valgrind: deps
	@SENDBENCH_EXTRA_PKGS=valgrind scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@BINDIR=$(BINDIR) VALGRIND=1 tests/run.sh --unit-only

bench: deps
	@SENDBENCH_EXTRA_PKGS="wrk hyperfine time r-base-core r-cran-forecast linux-perf" scripts/deps.sh
	@$(MAKE) --no-print-directory -j2 BENCH=1 OPT="-O3 -g -DNDEBUG" bin/bench/sendbench bench-tools
	@BINDIR=bin/bench bench/run.sh

# Programs of the benchmark (bench/*.c except the forecast branch's backtest).
BENCH_TOOLS := $(BINDIR)/limit_server $(BINDIR)/bench_forecast $(BINDIR)/bench_high_needs
bench-tools: $(BENCH_TOOLS)

$(BINDIR)/limit_server: $(BUILD)/bench/limit_server.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/bench_forecast: $(BUILD)/bench/bench_forecast.o $(BUILD)/libsendbench.a $(BUILD)/libforecasts.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/bench_high_needs: $(BUILD)/bench/bench_high_needs.o $(BUILD)/libsendbench.a $(BUILD)/libforecasts.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Mixed load on loopback (not part of make test): its own cluster, the
# shipped history, wrk at 500 connections: the ceiling (reads only, all
# cached), then 10% submissions; fails above p99 300 ms, under 2,000 req/s
# or 0.5 of the ceiling, or on any error answer; tests/load/results.md.
load: deps
	@SENDBENCH_EXTRA_PKGS="wrk curl" scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@BINDIR=$(BINDIR) tests/load/run.sh

# Ten minutes of the same mixed load; fails when resident memory grows.
soak: deps
	@SENDBENCH_EXTRA_PKGS="wrk curl" scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@BINDIR=$(BINDIR) LOAD_MODE=soak tests/load/run.sh

# Several servers behind HAProxy on PostgreSQL streaming replication, in the
# foreground (scripts/cluster.sh, docs/scale-out.md), and its failure drills.
cluster: deps
	@SENDBENCH_EXTRA_PKGS="haproxy curl" scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@SENDBENCH_BIN=$(CURDIR)/$(BINDIR)/sendbench scripts/cluster.sh up

test-cluster: deps
	@SENDBENCH_EXTRA_PKGS="haproxy curl" scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@SENDBENCH_BIN=$(CURDIR)/$(BINDIR)/sendbench python3 tests/cluster/drills.py

# The scale-out figures (docs/scale-out.md): wrk through HAProxy with 1-3
# servers against one direct, replica lag at 50 submissions/s, failover.
bench-cluster: deps
	@SENDBENCH_EXTRA_PKGS="haproxy curl wrk" scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@SENDBENCH_BIN=$(CURDIR)/$(BINDIR)/sendbench python3 tests/cluster/bench.py

clean:
	rm -rf build bin

-include $(SERVER_OBJ:.o=.d) $(FORECAST_OBJ:.o=.d) $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d)

# Rolling-origin backtest over the shipped SEN2 history (not part of all):
# origins 2019-2023 fixed in advance, the tune set (origins 2019-2022, targets to
# 2023) apart from the reported origin 2023, R's forecast package on the identical
# splits (docs/forecasting.md; bench/tune.sh compares variants on the tune set).
# Results in bench/results/.
$(BINDIR)/backtest_panel: $(BUILD)/bench/backtest_panel.o $(BUILD)/libforecasts.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

backtest: deps
	@SENDBENCH_EXTRA_PKGS="time r-base-core r-cran-forecast" scripts/deps.sh
	@$(MAKE) --no-print-directory $(BINDIR)/backtest_panel
	/usr/bin/time -f "CPU user %U s, sys %S s, wall %e s" -o bench/results/ours.time \
	    $(BINDIR)/backtest_panel data/dfe bench/results/splits.csv > bench/results/ours.txt
	/usr/bin/time -f "CPU user %U s, sys %S s, wall %e s" -o bench/results/r.time \
	    Rscript bench/backtest_r.R bench/results/splits.csv > bench/results/r.txt
-include $(BUILD)/bench/backtest_panel.d
