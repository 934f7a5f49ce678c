"""``jala backup`` and ``jala restore``: the database (``pg_dump -Fc``) and the files in one tar.

The archive holds ``manifest.json`` (when, which server, each file's size and SHA-256),
``database.dump`` (``pg_dump -Fc``) and ``files/<storage name>``. The database is dumped first
and the files copied after, so every file a dumped row names is in the archive (a file whose
row came after the dump may be there too, harmlessly). A restore goes into an empty database
and file store; ``force`` restores over existing ones (pg_restore ``--clean``).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url

from jala import clock

FORMAT = "jala-backup/1"
DUMP_NAME = "database.dump"
MANIFEST_NAME = "manifest.json"
FILES_DIR = "files"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why, for the command line."""


def libpq_target(database_url):
    """``(conninfo URI without the password, environment with PGPASSWORD)`` for pg tools."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    # URL.set ignores None ("leave as is"): the password must be left out by building anew
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query)
    hosts = plain.query.get("host")
    if isinstance(hosts, tuple):  # SQLAlchemy's multi-host form; libpq's is host1:port1,host2…
        rendered = plain.difference_update_query(["host"]).render_as_string(hide_password=False)
        scheme, _, rest = rendered.partition("://")
        userinfo, _, tail = rest.partition("/")
        return f"{scheme}://{userinfo}{','.join(hosts)}/{tail}", env
    return plain.render_as_string(hide_password=False), env


def server_major(conninfo):
    """The PostgreSQL server's major version (15, 18…)."""
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        return conn.info.server_version // 10000


def _tool_major(path):
    found = re.search(r"(\d+)(?:\.\d+)?", subprocess.run(
        [path, "--version"], capture_output=True, text=True, check=True).stdout)
    return int(found.group(1)) if found else 0


def tool_candidates(name):
    """Every ``pg_dump``/``pg_restore`` on this machine: PATH, Debian's, the embedded wheel's."""
    paths = [shutil.which(name)]
    paths += sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    try:
        import pgserver

        paths.append(str(Path(pgserver.__file__).parent / "pginstall" / "bin" / name))
    except ImportError:
        pass
    seen = []
    for path in paths:
        if path and os.access(path, os.X_OK) and os.path.realpath(path) not in map(
                os.path.realpath, seen):
            seen.append(path)
    return seen


def find_tool(name, major):
    """The ``name`` binary for a server of version ``major``: that major, else the oldest newer.

    An older pg_dump refuses a newer server; a much newer one may write settings an older
    server does not know.
    """
    versions = sorted((_tool_major(path), path) for path in tool_candidates(name))
    fitting = [(v, p) for v, p in versions if v >= major]
    if not fitting:
        found = ", ".join(f"{p} ({v})" for v, p in versions) or "none"
        raise BackupError(f"no {name} for PostgreSQL {major} on this machine (found: {found}); "
                          f"install postgresql-client-{major}")
    exact = [p for v, p in fitting if v == major]
    return exact[0] if exact else fitting[0][1]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def backup(database_url, files_dir, archive_path):
    """Write the database and the file store to ``archive_path`` (a tar); returns the manifest."""
    conninfo, env = libpq_target(database_url)
    major = server_major(conninfo)
    pg_dump = find_tool("pg_dump", major)
    archive_path = Path(archive_path)
    files_dir = Path(files_dir)
    with tempfile.TemporaryDirectory(dir=archive_path.parent, prefix=".jala-backup-") as work:
        dump = Path(work) / DUMP_NAME
        done = subprocess.run([pg_dump, "--format=custom", f"--file={dump}", "--dbname",
                               conninfo], env=env, capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        files = sorted(p for p in files_dir.iterdir() if p.is_file()) if files_dir.is_dir() \
            else []
        manifest = {
            "format": FORMAT,
            "created_at": clock.now().isoformat(),
            "postgres_major": major,
            "pg_dump": pg_dump,
            "files": {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files},
        }
        partial = Path(work) / "archive.tar"
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mtime = len(data), int(clock.now().timestamp())
            with tempfile.TemporaryFile() as buffer:
                buffer.write(data)
                buffer.seek(0)
                tar.addfile(info, buffer)
            tar.add(dump, arcname=DUMP_NAME)
            for path in files:
                tar.add(path, arcname=f"{FILES_DIR}/{path.name}")
        os.replace(partial, archive_path)  # a finished archive or none, never half of one
    return manifest


def database_is_empty(conninfo):
    """Whether the database has no tables, views or sequences of its own."""
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        return not conn.execute(
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' LIMIT 1").fetchone()


def _read_manifest(tar):
    try:
        manifest = json.load(tar.extractfile(MANIFEST_NAME))
    except (KeyError, ValueError) as exc:
        raise BackupError("not a JALA backup: it has no readable manifest.json") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def restore(database_url, files_dir, archive_path, force=False):
    """Restore an archive into an empty database and file store (``force``: over them)."""
    conninfo, env = libpq_target(database_url)
    files_dir = Path(files_dir)
    try:
        tar = tarfile.open(archive_path, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive_path}: {exc}") from exc
    with tar:
        manifest = _read_manifest(tar)
        if not force and not database_is_empty(conninfo):
            raise BackupError("the database is not empty; restore into a new database, or "
                              "pass --force to replace what it holds")
        if not force and files_dir.is_dir() and any(files_dir.iterdir()):
            raise BackupError(f"the file store {files_dir} is not empty; pass --force to "
                              "restore over it")
        pg_restore = find_tool("pg_restore", max(server_major(conninfo),
                                                 manifest["postgres_major"]))
        with tempfile.TemporaryDirectory(prefix=".jala-restore-") as work:
            dump = Path(work) / DUMP_NAME
            with tar.extractfile(DUMP_NAME) as source, open(dump, "wb") as out:
                shutil.copyfileobj(source, out)
            command = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
                       "--single-transaction", "--dbname", conninfo]
            if force:
                command += ["--clean", "--if-exists"]
            done = subprocess.run([*command, str(dump)], env=env, capture_output=True,
                                  text=True)
            if done.returncode:
                raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
        files_dir.mkdir(parents=True, exist_ok=True)
        for name, expected in manifest["files"].items():
            if "/" in name or name.startswith("."):
                raise BackupError(f"refusing a file name in the archive: {name!r}")
            target = files_dir / name
            with tar.extractfile(f"{FILES_DIR}/{name}") as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
            if _sha256(target) != expected["sha256"]:
                raise BackupError(f"file {name} does not match its SHA-256 in the manifest")
    return manifest
