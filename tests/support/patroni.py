"""A Patroni cluster of a test's own: one etcd and PostgreSQL nodes that Patroni manages.

The failover test and ``bench/failover.py`` start etcd (Debian's ``etcd-server``) on free
loopback ports in a temporary folder, then Patroni nodes (PyPI's ``patroni``) over the server's
binaries, each with its data in a folder of its own, in ``synchronous_mode`` so that a commit
the client saw is on the standby before it is acknowledged. As root, Patroni runs as the
``postgres`` user (PostgreSQL refuses root); the venv's interpreter may live where ``postgres``
cannot read (pyenv under /root), so then the system's Python of the same version runs Patroni
with the venv's packages on its path. ``crash()`` kills a node's Patroni and every PostgreSQL
process of it at once with SIGKILL, as a machine that loses power: nothing is shut down, and
the leader key in etcd stays until its TTL runs out. Without etcd or Patroni the tests skip,
and fail under ``CI=true``.
"""
import atexit
import functools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import urllib.request
from pathlib import Path

import psutil
import psycopg

from jala.embedded.postgres import create_database
from jala.embedded.redis_server import free_port
from tests.support.pg_clusters import _as_postgres, _owned_dir, pg_bin_dir
from tests.support.workers import wait_for

# Patroni's floor for the leader key's TTL: a crashed leader is replaced after about this long
TTL = 20
LOOP_WAIT = 1
RETRY_TIMEOUT = 5


def system_binary(name):
    """A Debian package's program (``/usr/sbin`` may not be on a user's PATH), or None."""
    return shutil.which(name) or next(
        (f"{d}/{name}" for d in ("/usr/bin", "/usr/sbin") if os.path.exists(f"{d}/{name}")), None)


def _runs_patroni(python, paths):
    try:
        done = subprocess.run([python, "-c", "import patroni, psycopg, etcd"], cwd="/",
                              env={"PYTHONPATH": paths, "PATH": "/usr/bin:/bin"},
                              capture_output=True, timeout=60, **_as_postgres())
    except OSError:  # the postgres user may not reach it
        return False
    return done.returncode == 0


def _copy_of_patroni():
    """Patroni and every distribution it needs, copied where the postgres user can read them
    (the venv may sit in a folder only root may enter); the copy's folder, or None."""
    from importlib import metadata

    target = Path(tempfile.mkdtemp(prefix="jala-patroni-lib-"))
    target.chmod(0o755)
    atexit.register(shutil.rmtree, target, True)
    wanted, seen = ["patroni", "psycopg"], set()
    while wanted:
        name = re.sub(r"[-_.]+", "-", wanted.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in distribution.files or ():
            source = Path(distribution.locate_file(file))
            if ".." in file.parts or source.suffix == ".pyc" or not source.is_file():
                continue
            destination = target / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        for requirement in distribution.requires or ():
            spec, _, marker = requirement.partition(";")
            extras = re.findall(r"extra\s*==\s*['\"]([^'\"]+)", marker)
            if extras and not set(extras) & {"etcd3", "binary"}:
                continue
            wanted.append(re.match(r"[A-Za-z0-9._-]+", spec.strip()).group(0))
    for folder in [target, *target.rglob("*")]:
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    return str(target)


@functools.cache
def patroni_python():
    """``(interpreter, PYTHONPATH)`` with which the ``postgres`` user can run Patroni, or None."""
    try:
        import patroni  # noqa: F401
    except ImportError:
        return None
    paths = os.pathsep.join(dict.fromkeys(
        [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]))
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    system_python = f"/usr/bin/python{version}"
    for python in (sys.executable, system_python):
        if os.path.exists(python) and _runs_patroni(python, paths):
            return python, paths
    if os.path.exists(system_python):
        copy = _copy_of_patroni()
        if _runs_patroni(system_python, copy):
            return system_python, copy
    return None


def missing_parts(programs=()):
    """What the failover test lacks on this machine ('' when nothing); ``programs`` are
    further Debian programs it needs (``pgbouncer``, ``haproxy``)."""
    missing = []
    if pg_bin_dir() is None:
        missing.append("PostgreSQL server binaries")
    for program in ("etcd", *programs):
        if system_binary(program) is None:
            missing.append(f"{program} (make ha)")
    if patroni_python() is None:
        missing.append("Patroni runnable by the postgres user (pip install 'patroni[etcd3]')")
    return ", ".join(missing)


def require_ha_parts(programs=()):
    """Skip the test when etcd, Patroni or PostgreSQL is missing (fail under CI=true)."""
    import pytest

    missing = missing_parts(programs)
    if missing:
        message = f"the failover test needs {missing}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _get_json(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_until(predicate, timeout, what):
    """``wait_for`` a server: not up yet, or still read-only, is not yet."""
    wait_for(predicate, timeout, what, ignoring=(OSError, ValueError, psycopg.Error))


class Etcd:
    """A one-member etcd on free loopback ports, its data in a temporary folder."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="jala-etcd-"))
        self.client_port, self.peer_port = free_port(), free_port()
        self.proc = None

    @property
    def address(self):
        return f"127.0.0.1:{self.client_port}"

    def start(self):
        client, peer = f"http://{self.address}", f"http://127.0.0.1:{self.peer_port}"
        with open(self.root / "etcd.log", "wb") as log:
            self.proc = subprocess.Popen(
                [system_binary("etcd"), "--name", "jala-test",
                 "--data-dir", str(self.root / "data"),
                 "--listen-client-urls", client, "--advertise-client-urls", client,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", f"jala-test={peer}", "--initial-cluster-state", "new",
                 "--logger", "zap", "--log-level", "warn"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: _get_json(f"{client}/health").get("health") == "true", 30,
                   "etcd to answer")
        return self

    def stop(self, keep_files=False):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not keep_files:
            shutil.rmtree(self.root, ignore_errors=True)


class PatroniNode:
    """One PostgreSQL under Patroni: its REST API and PostgreSQL on free loopback ports."""

    def __init__(self, cluster, name):
        self.cluster, self.name = cluster, name
        self.root = _owned_dir(f"jala-patroni-{name}-")
        # ports are taken when the node first starts, not before: other test runs on this
        # machine start clusters too, and a port kept free for long may be theirs by then
        self.port = self.api_port = None
        self.proc = None

    @property
    def api(self):
        return f"http://127.0.0.1:{self.api_port}"

    def config(self):
        cluster = self.cluster
        return {
            "scope": cluster.scope, "namespace": "/jala-test/", "name": self.name,
            "log": {"level": "WARNING"},
            "restapi": {"listen": f"127.0.0.1:{self.api_port}",
                        "connect_address": f"127.0.0.1:{self.api_port}"},
            "etcd3": {"hosts": [cluster.etcd.address]},
            "bootstrap": {
                "dcs": {
                    "ttl": cluster.ttl, "loop_wait": cluster.loop_wait,
                    "retry_timeout": RETRY_TIMEOUT,
                    "maximum_lag_on_failover": 1024 * 1024,
                    "synchronous_mode": True,
                    "postgresql": {"use_pg_rewind": True, "use_slots": True,
                                   "parameters": cluster.parameters},
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{self.port}",
                "connect_address": f"127.0.0.1:{self.port}",
                "data_dir": str(self.root / "data"),
                "bin_dir": str(cluster.bin_dir),
                "pgpass": str(self.root / "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": cluster.password},
                    "replication": {"username": "replicator", "password": cluster.password},
                    "rewind": {"username": "postgres", "password": cluster.password},
                },
                "parameters": {"unix_socket_directories": str(self.root)},
                "pg_hba": ["local all all trust", "local replication all trust",
                           "host all all 127.0.0.1/32 trust",
                           "host replication all 127.0.0.1/32 trust"],
            },
            "tags": {},
        }

    def start(self):
        """Start (or restart, after ``crash``) this node's Patroni."""
        if self.port is None:
            self.port, self.api_port = free_port(), free_port()
        config_path = self.root / "patroni.json"  # YAML is a superset of JSON
        config_path.write_text(json.dumps(self.config(), indent=1))
        if os.geteuid() == 0:
            shutil.chown(config_path, "postgres", "postgres")
        python, paths = self.cluster.python
        log = open(self.root / "patroni.log", "ab")
        env = {"PYTHONPATH": paths, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
               "HOME": str(self.root)}
        try:
            self.proc = subprocess.Popen([python, "-m", "patroni", str(config_path)], env=env,
                                         stdout=log, stderr=subprocess.STDOUT, cwd=self.root,
                                         start_new_session=True, **_as_postgres())
        finally:
            log.close()
        return self

    def status(self):
        """Patroni's view of this node (``role``: primary/replica, ``state``…), or None."""
        try:
            return _get_json(f"{self.api}/patroni", timeout=1)
        except (OSError, ValueError):
            return None

    def postgres_pids(self):
        pid_file = self.root / "data" / "postmaster.pid"
        try:
            postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        except (OSError, ValueError, IndexError, psutil.Error):
            return []
        try:
            return [postmaster, *postmaster.children(recursive=True)]
        except psutil.Error:
            return [postmaster]

    def crash(self):
        """SIGKILL Patroni and every PostgreSQL process of this node at once (a power cut)."""
        victims = self.postgres_pids()
        if self.proc and self.proc.poll() is None:
            victims.append(psutil.Process(self.proc.pid))
        for process in victims:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.Error:
                pass
        psutil.wait_procs(victims, timeout=10)
        if self.proc:
            self.proc.wait()

    def stop(self):
        """Stop Patroni the polite way (it stops PostgreSQL); kill whatever is left."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        self.crash()

    def log(self, lines=40):
        path = self.root / "patroni.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class PatroniCluster:
    """etcd and ``size`` Patroni nodes: the first bootstraps, the others stream from it."""

    def __init__(self, size=2, parameters=None, ttl=TTL, loop_wait=LOOP_WAIT):
        self.ttl, self.loop_wait = ttl, loop_wait
        self.bin_dir = pg_bin_dir()
        self.python = patroni_python()
        self.scope = f"jala-{secrets.token_hex(4)}"
        self.password = secrets.token_hex(8)
        self.parameters = {
            "wal_level": "replica", "hot_standby": "on", "max_wal_senders": 10,
            "max_replication_slots": 10, "wal_log_hints": "on", "max_connections": 100,
            "shared_buffers": "64MB", "fsync": "off", "logging_collector": "off",
            **(parameters or {})}
        self.etcd = Etcd()
        self.nodes = [PatroniNode(self, f"node{i + 1}") for i in range(size)]

    def start(self, timeout=90):
        """Start etcd and every node; return once a leader has a streaming sync standby."""
        self.etcd.start()
        self.nodes[0].start()
        self.wait_for_leader(timeout)
        for node in self.nodes[1:]:
            node.start()
        self.wait_healthy(timeout)
        identifiers = set()
        for node in self.nodes:
            with psycopg.connect(f"host=127.0.0.1 port={node.port} user=postgres "
                                 "dbname=postgres", connect_timeout=5) as conn:
                identifiers.add(conn.execute(
                    "SELECT system_identifier FROM pg_control_system()").fetchone()[0])
        if len(identifiers) != 1:
            raise RuntimeError(f"a node's port answers for another server: {identifiers}")
        return self

    def members(self):
        """The cluster as Patroni's REST API tells it: ``{name: member}`` (role, state, lag)."""
        for node in self.nodes:
            if node.api_port is None:  # not started yet
                continue
            try:
                found = _get_json(f"{node.api}/cluster", timeout=1)
                return {m["name"]: m for m in found.get("members", [])}
            except (OSError, ValueError):
                continue
        return {}

    def leader(self):
        """The node Patroni made the running primary, or None."""
        for name, member in self.members().items():
            if member.get("role") == "leader" and member.get("state") == "running":
                return self.node(name)
        return None

    def node(self, name):
        return next(node for node in self.nodes if node.name == name)

    def wait_for_leader(self, timeout=60, other_than=None):
        found = {}

        def leader_ready():
            leader = self.leader()
            if leader is None or leader is other_than:
                return False
            with psycopg.connect(self.conninfo([leader]), connect_timeout=2) as conn:
                found["leader"] = leader
                return not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        wait_until(leader_ready, timeout, "a Patroni leader")
        return found["leader"]

    def wait_healthy(self, timeout=60):
        """Every node running, one leader, the others streaming, one of them the sync standby."""
        def healthy():
            members = self.members()
            roles = sorted(m.get("role") for m in members.values())
            return (len(members) == len(self.nodes)
                    and all(m.get("state") in ("running", "streaming") for m in members.values())
                    and roles.count("leader") == 1 and "sync_standby" in roles)
        wait_until(healthy, timeout, "a leader with a streaming synchronous standby")

    def switchover(self):
        """A planned switchover through the leader's REST API; returns the old leader."""
        leader = self.leader()
        request = urllib.request.Request(
            f"{leader.api}/switchover", data=json.dumps({"leader": leader.name}).encode(),
            method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        return leader

    def conninfo(self, nodes=None, dbname="postgres"):
        """A libpq multi-host connection string that finds the read-write node."""
        nodes = nodes or self.nodes
        hosts = ",".join("127.0.0.1" for _ in nodes)
        ports = ",".join(str(n.port) for n in nodes)
        return (f"host={hosts} port={ports} user=postgres dbname={dbname} "
                "target_session_attrs=read-write")

    def url(self, dbname):
        """The portal's ``DATABASE_URL`` over every node (SQLAlchemy's multi-host spelling)."""
        hosts = "&".join(f"host=127.0.0.1:{n.port}" for n in self.nodes)
        return f"postgresql+psycopg://postgres@/{dbname}?{hosts}&target_session_attrs=read-write"

    def create_database(self, dbname):
        create_database(self.conninfo(), dbname)
        return self.url(dbname)

    def logs(self):
        return "\n".join(f"--- {node.name} ---\n{node.log()}" for node in self.nodes)

    def remove(self, keep_files=False):
        """Stop every node and etcd; delete their folders unless ``keep_files``."""
        for node in self.nodes:
            try:
                node.stop()
            finally:
                if not keep_files:
                    shutil.rmtree(node.root, ignore_errors=True)
        self.etcd.stop(keep_files)
