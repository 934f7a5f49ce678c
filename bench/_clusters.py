"""Shard servers for bench/shards.py: PostgreSQL clusters made by Debian's pg_createcluster.

Each is a real cluster of the machine's PostgreSQL version on a port of its own (5433, 5434 …),
listening on 127.0.0.1 with trust for local connections, named ``jala_shard1`` … so that
``pg_lsclusters`` shows them and ``--clean`` finds them. The machine's own server (5432) is
never touched.
"""
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

PREFIX = "jala_shard"


def version():
    """The major version of the machine's server (the one on 5432)."""
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[2] == "5432":
            return fields[0]
    raise RuntimeError("no PostgreSQL cluster on port 5432 in pg_lsclusters")


def existing():
    """``{name: (version, port, status)}`` of the benchmark's clusters."""
    if not shutil.which("pg_lsclusters"):
        return {}
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1].startswith(PREFIX):
            found[fields[1]] = (fields[0], int(fields[2]), fields[3])
    return found


def conninfo(port, dbname="postgres"):
    return f"postgresql://postgres@127.0.0.1:{port}/{dbname}"


def wait_ready(port, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(conninfo(port), connect_timeout=3):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def create(index, port, shared_buffers="2GB", settings=None):
    """Cluster ``jala_shard<index>`` on ``port``, started; an existing one is reused."""
    name = f"{PREFIX}{index}"
    ver = version()
    have = existing().get(name)
    if have is None:
        # the durability of the machine's server (fsync, synchronous commit): an import rate
        # measured against shards that skip them would flatter the sharded catalogue
        options = {"listen_addresses": "127.0.0.1", "shared_buffers": shared_buffers,
                   "max_connections": "100", **(settings or {})}
        subprocess.run(["pg_createcluster", ver, name, "-p", str(port), "--", "--auth=trust",
                        "--encoding=UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
        # Debian's postgresql.conf reads conf.d/ last
        conf = Path(f"/etc/postgresql/{ver}/{name}/conf.d/jala_bench.conf")
        conf.write_text("".join(f"{key} = '{value}'\n" for key, value in options.items()))
        subprocess.run(["pg_ctlcluster", ver, name, "start"], check=True)
    elif have[2] != "online":
        subprocess.run(["pg_ctlcluster", ver, name, "start"], check=True)
    wait_ready(port)
    return name


def drop(name):
    ver = existing().get(name, (version(),))[0]
    subprocess.run(["pg_dropcluster", "--stop", ver, name], check=False, capture_output=True)


def drop_all():
    names = list(existing())
    for name in names:
        drop(name)
    return names
