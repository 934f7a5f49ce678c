"""PostgreSQL clusters of a test's own on loopback: a primary, its streaming standby, shards.

The machine's server (127.0.0.1:5432) is shared, so replication and sharding tests start
clusters of their own with the server's binaries (``initdb``, ``pg_ctl``, ``pg_basebackup``)
in a temporary folder, on a free port, and remove them afterwards. As root the binaries run
as the ``postgres`` user (``initdb`` refuses root). Without the binaries the tests skip, and
fail under ``CI=true``, where they must run.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from jala.embedded.postgres import create_database
from jala.embedded.redis_server import free_port

_BIN_ROOT = Path("/usr/lib/postgresql")


def pg_bin_dir():
    """The newest installed server's ``bin`` folder, or None."""
    versions = sorted((p for p in _BIN_ROOT.glob("*/bin") if (p / "initdb").exists()),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return versions[-1] if versions else None


def require_pg_bin():
    """The ``bin`` folder; skips the test without one (fails under CI=true)."""
    import pytest

    found = pg_bin_dir()
    if found is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _as_postgres():
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam("postgres")

    def demote():
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    return {"preexec_fn": demote}


def _owned_dir(prefix):
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)
    return path


class LocalCluster:
    """One PostgreSQL cluster in a folder of its own, listening on 127.0.0.1 and a socket."""

    def __init__(self, name, bin_dir=None, port=None, settings=None):
        self.name = name
        self.bin = Path(bin_dir or require_pg_bin())
        self.root = _owned_dir(f"jala-{name}-")
        self.data = self.root / "data"
        self.port = port or free_port()
        self.settings = settings or {}
        self.running = False

    # --- commands --------------------------------------------------------------------------

    def _run(self, *args, check=True, timeout=120):
        return subprocess.run([str(self.bin / args[0]), *args[1:]], check=check,
                              capture_output=True, text=True, timeout=timeout, cwd=self.root,
                              **_as_postgres())

    def _configure(self):
        lines = {
            "listen_addresses": "'127.0.0.1'", "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'", "wal_level": "replica",
            "max_wal_senders": "10", "max_replication_slots": "10", "hot_standby": "on",
            "fsync": "off", "full_page_writes": "off", "shared_buffers": "64MB",
            "max_connections": "60", "logging_collector": "off",
        }
        lines.update({key: str(value) for key, value in self.settings.items()})
        with open(self.data / "postgresql.auto.conf", "a") as conf:
            for key, value in lines.items():
                conf.write(f"{key} = {value}\n")
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nlocal replication all trust\n"
            "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n")

    def init(self):
        """A new empty cluster (UTF-8, C.UTF-8 locale), configured but not started."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "-A", "trust")
        self._configure()
        return self

    def start(self, timeout=60):
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", str(timeout), "start", timeout=timeout + 10)
        self.running = True
        return self

    def stop(self, mode="fast"):
        """Stop the server (``immediate`` is a crash: no checkpoint, clients cut off)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)
            self.running = False

    def remove(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self):
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- addresses -------------------------------------------------------------------------

    def conninfo(self, dbname="postgres"):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname="postgres"):
        """A SQLAlchemy URL (psycopg 3)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname="postgres", **kwargs):
        return psycopg.connect(self.conninfo(dbname), connect_timeout=5, **kwargs)

    def create_database(self, dbname):
        create_database(self.conninfo(), dbname)  # as the portal's own: the same collation
        return self.url(dbname)

    # --- replication -----------------------------------------------------------------------

    def make_standby(self, name="standby", settings=None):
        """A streaming standby of this (running) cluster by ``pg_basebackup -R``, started."""
        standby = LocalCluster(name, bin_dir=self.bin, settings=settings)
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "-D", str(standby.data), "-X", "stream", "-R", "-c", "fast", timeout=300)
        with open(standby.data / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {standby.port}\nunix_socket_directories = '{standby.root}'\n")
            for key, value in (settings or {}).items():
                conf.write(f"{key} = {value}\n")
        return standby.start()

    def wait_caught_up(self, standby, timeout=30):
        """Wait until ``standby`` has replayed everything this primary has written so far."""
        with self.connect(autocommit=True) as conn:
            # the insert position: commits made with synchronous_commit = off (imports) lie
            # beyond the flushed one until the WAL writer catches up
            target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with standby.connect(autocommit=True) as conn:
                if conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                (target,)).fetchone()[0]:
                    return
            time.sleep(0.05)
        raise TimeoutError(f"standby {standby.name} did not catch up to {target}")
