# AI-BOS Data Fabric — developer commands. `make help` lists them.
# With DATABASE_URL unset, everything runs against an embedded PostgreSQL in .pgdata/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DJANGO_DEBUG ?= 1

.DEFAULT_GOAL := help
.PHONY: help install run migrate seed trust seal evidence schema-doc test lint format typecheck pytest fuzz bench db-stop clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install pinned dependencies

run: install migrate seed ## Migrate, seed the demo tenants and serve on 127.0.0.1:8000
	$(BIN)/python manage.py runserver 127.0.0.1:8000

migrate: install ## Deploy schemas, roles, tables, grants, RLS and triggers
	$(BIN)/python manage.py migrate --no-input

seed: install ## Create the demo tenants (idempotent)
	$(BIN)/python manage.py seed_demo

trust: install migrate ## CFO Trust Test: seed, attack as the runtime roles, report (trust-test/)
	$(BIN)/python manage.py trust_test

seal: install ## Seal the audit log into hash chains and sign checkpoints (once; see audit_seal --follow)
	$(BIN)/python manage.py signing_keygen --if-missing
	$(BIN)/python manage.py audit_seal
	$(BIN)/python manage.py audit_verify

evidence: seal ## Export and verify the evidence pack of TENANT (default acme) to evidence-$(TENANT).zip
	$(BIN)/python manage.py evidence_export --tenant $(or $(TENANT),acme) --out evidence-$(or $(TENANT),acme).zip --verify

# The schema document describes what migrations produce: generated from a database re-created
# and migrated for it (its name must end in _schemadoc), on PostgreSQL 15 like CI.
SCHEMA_DOC_URL ?= postgres://postgres@127.0.0.1:5432/aibos_schemadoc

schema-doc: install ## Regenerate docs/schema/ from a freshly migrated SCHEMA_DOC_URL (re-created)
	$(BIN)/python -m guardian.schema_doc.fresh "$(SCHEMA_DOC_URL)"
	DATABASE_URL="$(SCHEMA_DOC_URL)" $(BIN)/python manage.py migrate --no-input -v0
	DATABASE_URL="$(SCHEMA_DOC_URL)" $(BIN)/python manage.py schema_doc --out docs/schema/

test: lint typecheck pytest fuzz ## Lint, type-check, run the test suite and fuzz the live API

lint: install ## ruff lint + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy with django-stubs
	# The stubs plugin imports settings; a placeholder URL keeps it from starting a database.
	DATABASE_URL=postgres://typecheck@127.0.0.1:1/none $(BIN)/mypy aibos kernel config finance assurance guardian optimizer

pytest: install ## Run the test suite only
	$(BIN)/pytest

fuzz: install ## schemathesis against a live server on a fresh <db>_fuzz database (FUZZ_SECONDS)
	$(BIN)/python tests/contract/run_schemathesis.py

bench: install ## Run the benchmarks (prints figures; see docs/benchmarks.md)
	$(BIN)/python bench/rls_overhead.py
	$(BIN)/python bench/audit_overhead.py
	$(BIN)/python bench/posting.py
	$(BIN)/python bench/balance_read.py
	$(BIN)/python bench/evidence.py
	$(BIN)/python bench/optimizer.py

db-stop: install ## Stop the embedded PostgreSQL (if running)
	$(BIN)/python -c "from pathlib import Path; from aibos.embedded_postgres import stop_embedded; stop_embedded(Path('.pgdata').resolve())"

clean: ## Remove the virtualenv (keeps .pgdata)
	rm -rf $(VENV)
