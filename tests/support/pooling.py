"""The production path to a Patroni cluster: HAProxy → PgBouncer on the leader → PostgreSQL.

Each node gets a PgBouncer (session pooling) in front of its PostgreSQL's socket, and one
HAProxy sends connections to the PgBouncer of the node whose Patroni answers ``GET /primary``
with 200, checking every half second and cutting the sessions of a node marked down. The app's
``DATABASE_URL`` is then a single host, HAProxy's. ``crash(node)`` kills the node's PgBouncer
with its Patroni and PostgreSQL (the whole machine is gone); ``restart(node)`` brings both back.

A multi-host URL with ``target_session_attrs=read-write`` across the nodes' PgBouncers does not
survive a failover: PgBouncer (1.18) hands its clients the parameters of its first server
connection, so the promoted node's PgBouncer keeps reporting ``in_hot_standby=on`` and libpq
refuses it as read-only; and a PgBouncer whose PostgreSQL died holds a new client for
``query_wait_timeout`` instead of failing it. Hence the health check on Patroni's REST API.
"""
import csv
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

from jala.embedded.redis_server import free_port
from tests.support.patroni import system_binary, wait_until
from tests.support.pg_clusters import _as_postgres


class MultiHost:
    """The app straight on PostgreSQL: a multi-host URL with ``target_session_attrs``."""

    programs = ()

    def __init__(self, cluster):
        self.cluster = cluster

    def start(self):
        return self

    def url(self, dbname):
        return self.cluster.url(dbname)

    def crash(self, node):
        node.crash()

    def restart(self, node):
        node.start()

    def stop(self):
        pass


class NodeBouncer:
    """PgBouncer on one node, in front of that node's PostgreSQL."""

    def __init__(self, node):
        self.node = node
        self.port = None
        self.proc = None

    def start(self):
        self.port = self.port or free_port()
        root = self.node.root
        ini, users = root / "pgbouncer.ini", root / "userlist.txt"
        users.write_text('"postgres" ""\n')
        ini.write_text(
            f"[databases]\n* = host={root} port={self.node.port}\n\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\npool_mode = session\n"
            "max_client_conn = 200\ndefault_pool_size = 40\nserver_login_retry = 1\n"
            "server_connect_timeout = 2\nquery_wait_timeout = 10\n")
        if os.geteuid() == 0:
            for path in (ini, users):
                shutil.chown(path, "postgres", "postgres")
        with open(root / "pgbouncer.log", "ab") as log:
            self.proc = subprocess.Popen([system_binary("pgbouncer"), str(ini)], stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         **_as_postgres())
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class LeaderRouting:
    """PgBouncer on every node of ``cluster`` and HAProxy in front, following the leader."""

    programs = ("pgbouncer", "haproxy")

    def __init__(self, cluster):
        self.cluster = cluster
        self.bouncers = {node.name: NodeBouncer(node) for node in cluster.nodes}
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="jala-haproxy-"))
        self.proc = None

    def start(self):
        for bouncer in self.bouncers.values():
            bouncer.start()
        servers = "".join(
            f"    server {name} 127.0.0.1:{bouncer.port} check port {bouncer.node.api_port}\n"
            for name, bouncer in self.bouncers.items())
        config = self.root / "haproxy.cfg"
        config.write_text(
            f"global\n    maxconn 400\n    stats socket {self.root}/stats.sock\n\n"
            "defaults\n    mode tcp\n    timeout connect 2s\n"
            "    timeout client 30m\n    timeout server 30m\n    timeout check 1s\n\n"
            f"listen primary\n    bind 127.0.0.1:{self.port}\n"
            "    option httpchk GET /primary\n    http-check expect status 200\n"
            "    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions\n"
            + servers)
        with open(self.root / "haproxy.log", "ab") as log:
            self.proc = subprocess.Popen([system_binary("haproxy"), "-db", "-f", str(config)],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        wait_until(self._routes_to_leader_only, 30, "HAProxy to route to the leader alone")
        if self._identifier(self.conninfo()) != self._identifier(
                self.cluster.conninfo([self.cluster.leader()])):
            raise RuntimeError(f"HAProxy's port {self.port} answers for another server")
        return self

    @staticmethod
    def _identifier(conninfo):
        with psycopg.connect(conninfo, connect_timeout=5) as conn:
            return conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()

    def server_states(self):
        """``{node name: "UP"/"DOWN"/…}`` as HAProxy's health checks have it now."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(str(self.root / "stats.sock"))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        rows = csv.reader(data.decode().lstrip("# ").splitlines())
        header = next(rows)
        return {row[1]: row[header.index("status")] for row in rows
                if row and row[0] == "primary" and row[1] in self.bouncers}

    def _routes_to_leader_only(self):
        # HAProxy counts every server up until its first checks fail: until then it would
        # send a connection to the standby now and then
        leader = self.cluster.leader()
        states = self.server_states()
        return leader is not None and all(
            state.startswith("UP" if name == leader.name else "DOWN")
            for name, state in states.items())

    def conninfo(self, dbname="postgres"):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname):
        """The portal's ``DATABASE_URL``: one host, HAProxy's."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def crash(self, node):
        """The node's machine is gone: its Patroni, PostgreSQL and PgBouncer die at once."""
        self.bouncers[node.name].kill()
        node.crash()

    def restart(self, node):
        node.start()
        self.bouncers[node.name].start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for bouncer in self.bouncers.values():
            bouncer.kill()
        shutil.rmtree(self.root, ignore_errors=True)


ENTRIES = {"multi-host": MultiHost, "haproxy-pgbouncer": LeaderRouting}
