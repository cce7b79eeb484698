# pgreel developer tasks. Every variable can be overridden, e.g.
#   make db-up proxy PGREEL_DB_PORT=55432 PORT=6543
#   make replay FILE=sessions/pseudo_user_2025-10-07_21-30-15.json
#   make test TEST_FLAGS='--filter IntegrationTests'

SWIFT          ?= swift
# The demo PostgreSQL (scripts/db.sh) listens on 127.0.0.1:$(PGREEL_DB_PORT).
PGREEL_DB_PORT ?= 5432
# The proxy listens on 127.0.0.1:$(PORT).
PORT           ?= 5433
UPSTREAM       ?= postgres://postgres@127.0.0.1:$(PGREEL_DB_PORT)/postgres
DB_URL         ?= $(UPSTREAM)
TEST_FLAGS     ?=
PGREEL         := .build/debug/pgreel
# `make run TLS=1`: the proxy offers TLS with the self-signed certificate of `make certs` (in $(CERTS)).
CERTS          ?= .certs
TLS            ?=
TLS_ARGS       := $(if $(TLS),--tls-cert $(CERTS)/server.crt --tls-key $(CERTS)/server.key)
TLS_PREREQ     := $(if $(TLS),certs)

export PGREEL_DB_PORT

.PHONY: build db-up db-down db-status proxy monitor run replay test test-matrix upgrade-demo bench bench-floor bench-smoke certs fuzz \
	soak clean

build:
	$(SWIFT) build

db-up:
	@bash scripts/db.sh up

db-down:
	@bash scripts/db.sh down

db-status:
	@bash scripts/db.sh status

proxy: build $(TLS_PREREQ)
	$(PGREEL) proxy --listen 127.0.0.1:$(PORT) --upstream $(UPSTREAM) $(TLS_ARGS)

monitor: build $(TLS_PREREQ)
	$(PGREEL) monitor --listen 127.0.0.1:$(PORT) --upstream $(UPSTREAM) $(TLS_ARGS)

# A self-signed certificate for localhost in $(CERTS) (gitignored), kept if it exists.
certs:
	@bash scripts/certs.sh $(CERTS)

# The demo database, then the live dashboard in the foreground (`make proxy` for the headless proxy).
run: db-up
	@$(MAKE) --no-print-directory monitor

replay:
	@if [ -z "$(FILE)" ]; then \
		echo "make replay: FILE is not set; usage: make replay FILE=sessions/<file>.json [DB_URL=postgres://...]" >&2; \
		exit 2; \
	fi
	$(SWIFT) build
	$(PGREEL) replay "$(FILE)" --db-url "$(DB_URL)"

# Builds everything first, so a compile error shows up as such; any failing test fails the target.
test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build $(TEST_FLAGS)

# The compatibility matrix (docs/compatibility.md): PostgreSQL 15, 16, 17 and 18 upstream, psql/pgbench of 15 to 18
# as clients, each check through pgreel; prints the table, fails on any failed check. The majors come from
# scripts/postgres-versions.sh (filled here if missing). PGREEL_MATRIX_MAJORS='15 18' runs the rows of those majors only.
MATRIX_RESULTS ?= .build/matrix/results.jsonl
test-matrix:
	bash scripts/postgres-versions.sh ensure
	$(SWIFT) build --build-tests
	@rm -f $(MATRIX_RESULTS)
	@status=0; \
	PGREEL_MATRIX=1 PGREEL_MATRIX_RESULTS="$(abspath $(MATRIX_RESULTS))" \
		$(SWIFT) test --skip-build --filter 'IntegrationTests.MatrixTests' $(TEST_FLAGS) || status=$$?; \
	echo; echo "Compatibility matrix ($(MATRIX_RESULTS)):"; echo; \
	python3 scripts/matrix-table.py $(MATRIX_RESULTS) || status=1; \
	exit $$status

# Records the seed workflow and pgbench on PostgreSQL 15 through pgreel, replays them against 15 and 18.
upgrade-demo: build
	bash scripts/upgrade-demo.sh

# pgreel side by side with direct PostgreSQL and pgbouncer (docs/performance.md); not part of `make test`.
bench:
	bash bench/run.sh

# What a bare swift-nio relay costs next to pgbouncer and pgreel (docs/performance.md "The floor").
bench-floor:
	bash bench/floor.sh

# A short run that only checks the bench still works.
bench-smoke:
	SMOKE=1 bash bench/run.sh

# libFuzzer over the decoders and the session tracker, FUZZ_SECONDS (default 60) per target (docs/testing.md).
fuzz:
	bash Fuzz/run.sh

# 200 pgbench clients through the proxy with recording on, SOAK_SECONDS (default 300) (docs/testing.md).
soak:
	bash scripts/soak.sh

clean:
	rm -rf .build Fuzz/.build
