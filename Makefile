# The two commands a new user runs: `make lab` (the runbook in JupyterLab, sandbox by default)
# and `make test` (every test, browser tests included). Both create .venv when needed.
# `make lab` opens untracked working copies of the runbooks (notebooks/work/) and saves them without outputs
# (notebooks/jupyter_server_config.py).
VENV ?= .venv
PY := $(VENV)/bin/python
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_PORT ?= 8888
LAB_DIR ?= notebooks/work
PYTEST_ARGS ?=

.PHONY: lab lab-copies test venv browser postgres node systemd emulator bench clean contract

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV) || { \
	  echo "python3 -m venv failed; trying virtualenv"; \
	  python3 -m pip install --user --break-system-packages virtualenv 2>/dev/null || python3 -m pip install --user virtualenv; \
	  python3 -m virtualenv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,scheduler]'  # scheduler: tests/notebooks/test_jupyter_scheduler.py
	@touch $@

## Debian's chromium for the browser tests (Playwright's own download cannot work offline).
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## Debian's PostgreSQL server binaries: the ledger tests run on PostgreSQL too (their own throwaway cluster).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "$$ZENLAYER_TEST_POSTGRES_URL" ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

## Debian's nodejs: tests/widgets/test_name_rule_parity.py runs the name field's JS check under node (no browser).
node:
	@command -v node >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs >/dev/null; }

## Debian's systemd for `systemd-analyze verify` on contrib/systemd's units (tests/notebooks/test_systemd_units.py).
systemd:
	@command -v systemd-analyze >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq systemd >/dev/null; }

## Lab opens working copies of the runbooks in notebooks/work/ (git-ignored): what you type there (apply = True, an
## instance id) never reaches the tracked runbooks, which papermill and cron run. A copy is made once; delete it to
## start again from the tracked runbook.
lab: venv lab-copies
	cd $(LAB_DIR) && $(abspath $(VENV))/bin/jupyter lab --config=$(abspath notebooks/jupyter_server_config.py) \
	  --LabApp.default_url=/lab/tree/create_image.ipynb --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) $(ROOT_FLAG)

lab-copies:
	@mkdir -p $(LAB_DIR)
	@for nb in notebooks/*.ipynb; do test -e $(LAB_DIR)/$$(basename $$nb) || cp $$nb $(LAB_DIR)/; done
	@echo "Working copies in $(LAB_DIR)/ (untracked); the tracked runbooks in notebooks/ stay as they are."

test: venv browser postgres node systemd
	$(PY) -m pytest $(PYTEST_ARGS)

## Contract checks: against the emulator (comparing with tests/contract/snapshots/*.json); with
## ZENLAYER_CONTRACT_LIVE=1 and your credentials, read-only against the real API, recording the snapshots
## (ZENLAYER_CONTRACT_WRITE=1 ZENLAYER_CONTRACT_INSTANCE=<id> adds one create/rename/delete cycle).
contract: venv
	$(PY) -m pytest tests/contract $(PYTEST_ARGS)

emulator: venv
	$(PY) -m zenlayer_widgets.emulator --port 8800

bench: venv browser
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
