"""Helpers the tests share; fixtures stay in the conftest.py files, which import from here.

Look here before writing a helper in a test module:

- ``services``: the real PostgreSQL, Redis and SMTP server a run talks to (its own database,
  key prefix and queue), and a private redis-server for the fault tests.
- ``app``: the schema migrated onto a database (``migrate``), the app configured for a run.
- ``factories``: users, portal admins, records with their copies, settings.
- ``catalog``: catalogue imports inside the test's transaction, the MARC samples.
- ``files``: a PDF, PNG pictures, ``Upload`` (a file as a view or a service gets it).
- ``web``: the Flask test client as a browser: CSRF token, forms, logging in, HTMX.
- ``mail``: the emails a test caused (outbox rows).
- ``races``: steps in threads of their own on real connections, committed.
- ``browser``: the Playwright helpers of the journeys (``tests/e2e``).
- ``workers``: the fault-test rig with real worker processes (``tests/faults``).
- ``governance``: committee seats, the chair, meetings, check-ins and votes.
- ``reference``: the reference working group.
- ``search``: a little catalogue for the search tests, and the titles a search shows.
"""
