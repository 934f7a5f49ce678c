# The two commands: `make run` (portal with demo data at http://127.0.0.1:5000) and `make test`.
SHELL := /bin/bash
VENV  := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTHON := $(shell for p in python3.12 python3.11 python3; do \
            $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null && { echo $$p; break; }; \
          done)

.PHONY: run test lint browser xmlsec ha clean-instance

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is needed"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/jala run

test: $(STAMP) browser xmlsec ha
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Browser tests drive Debian's chromium; install it (and a CJK font) when we can.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)) \
	     && echo "installed chromium and fonts-noto-cjk"; \
	  else echo "chromium is missing: browser tests will be skipped (or fail under CI=true)"; fi; \
	fi

# SAML signs and checks XML with xmlsec1 (the portal's SP and the tests' IdP alike).
xmlsec:
	@if ! command -v xmlsec1 >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get install -y -qq xmlsec1 >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq xmlsec1 >/dev/null)) \
	     && echo "installed xmlsec1"; \
	  else echo "xmlsec1 is missing: SAML sign-on tests will be skipped (or fail under CI=true)"; fi; \
	fi

# The failover tests run Patroni (from PyPI, in the test extras) over Debian's etcd, and the
# production path of deploy/: HAProxy to the leader's PgBouncer.
HA_PROGRAMS := /usr/bin/etcd /usr/sbin/pgbouncer /usr/sbin/haproxy
ha:
	@if ! ls $(HA_PROGRAMS) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get install -y -qq etcd-server pgbouncer haproxy >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq etcd-server pgbouncer haproxy >/dev/null)) \
	     && echo "installed etcd-server, pgbouncer and haproxy"; \
	  else echo "etcd, pgbouncer or haproxy is missing: failover tests will be skipped (or fail under CI=true)"; fi; \
	fi

clean-instance:
	rm -rf instance
