"""Shared helpers for the benchmark scripts: scratch databases, the app, timing, tables.

Nothing here changes the application: the scripts create their own ``jala_bench_*`` database,
migrate it with alembic, run the real import and search code against it, and drop it at the end
(unless ``--keep``).
"""
import math
import os
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import sqlalchemy  # noqa: E402

ADMIN_CONNINFO = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVER = "postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/13"
INSTANCE_PATH = "/tmp/jala-bench-instance"
LIBRARIES = ("JXUFE", "ECJTU", "JXAU", "NCHU", "ECUT", "JXUTCM", "JXSTNU", "NCU", "JJU", "NIT",
             "SRNU", "JDZU", "YCU", "JXEMC", "JCU")
def log(*args):
    print(time.strftime("[%H:%M:%S]"), *args, file=sys.stderr, flush=True)


def db_url(name):
    return f"postgresql+psycopg://{SERVER}/{name}"


def conninfo(name):
    return f"postgresql://{SERVER}/{name}"


def drop_database(name):
    assert name.startswith("jala_bench_"), name
    with psycopg.connect(ADMIN_CONNINFO, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            psycopg.sql.Identifier(name)))


def create_bench_database(name):
    """A fresh, migrated database (an existing one of that name is dropped first)."""
    from alembic import command

    from jala.cli import alembic_config
    from jala.embedded.postgres import create_database

    drop_database(name)
    create_database(ADMIN_CONNINFO, name)
    url = db_url(name)
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    engine.dispose()
    return url


def make_app(url):
    from jala import create_app

    return create_app({"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "SECRET_KEY": "x" * 40,
                       "INSTANCE_PATH": INSTANCE_PATH})


@contextmanager
def scratch_portal(name):
    """Yield ``(app, workdir)``: the portal on a scratch database, Redis db and SMTP sink.

    They are made as the tests make them (``tests/support``) and dropped afterwards.
    """
    import tempfile

    from jala.extensions import db
    from tests.support.app import make_app as make_test_app
    from tests.support.app import migrate
    from tests.support.services import CatchingSMTP, ScratchPostgres, ScratchRedis

    postgres, redis_service, smtp = ScratchPostgres(), ScratchRedis(), CatchingSMTP()
    url, database = postgres.create(name)
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    try:
        migrate(url)
        app = make_test_app(url, redis_service, smtp, workdir / "instance")
        yield app, workdir
        with app.app_context():
            db.engine.dispose()
    finally:
        postgres.drop(database)
        redis_service.close()
        smtp.stop()


def p50_p95_ms(seconds):
    """``(p50, p95)`` in milliseconds of durations in seconds."""
    ms = [s * 1000 for s in seconds]
    return percentile(ms, 50), percentile(ms, 95)


def percentile(values, p):
    """Linear-interpolated percentile (p in 0..100) of a non-empty list."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def mean(values):
    return statistics.fmean(values) if values else float("nan")


def fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def _width(text):
    # CJK characters take two columns in a terminal
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def table(headers, rows, title=None):
    """A plain-text table (right-aligned numbers, left-aligned text)."""
    cells = [[str(h) for h in headers]] + [[fmt(c) if not isinstance(c, str) else c for c in row]
                                           for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]

    def line(row, header=False):
        out = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            numeric = not header and i > 0 and cell.replace(".", "", 1).replace("-", "", 1) \
                .replace("%", "").replace("x", "").replace(",", "").strip().isdigit()
            out.append(pad + cell if numeric else cell + pad)
        return "  ".join(out).rstrip()

    text = []
    if title:
        text.append(title)
    text.append(line(cells[0], header=True))
    text.append("  ".join("-" * w for w in widths))
    text.extend(line(r) for r in cells[1:])
    return "\n".join(text)


def peak_rss_mb():
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb():
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def family_memory_mb():
    """``(RSS, PSS)`` summed over this process and its children (import workers), in MB.

    RSS counts pages shared by forked workers once per process; PSS shares them out, so the
    PSS sum is what the family really occupies.
    """
    try:
        import psutil
    except ImportError:
        return current_rss_mb(), float("nan")
    me = psutil.Process()
    rss = pss = 0
    for proc in [me, *me.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return rss / 2**20, pss / 2**20


def children_peak_rss_mb():
    """Largest peak RSS of any finished child process (getrusage RUSAGE_CHILDREN)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def mark(ok):
    return "OK" if ok else "MISS"


@contextmanager
def timed(label, sink=None):
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    if sink is not None:
        sink[label] = elapsed
    log(f"{label}: {elapsed:.1f} s")


class PhaseTimer:
    """Wraps the engine's internal steps (in this process only) to time each of them.

    ``search()`` looks its helpers up as module globals at call time, so replacing them on the
    module object measures them without touching jala/. The engine's helpers have changed
    names over time, so every known name is wrapped if the module has it, and the report
    groups them: candidates/ranking, counting/facets, loading the hits, fallbacks.
    """

    GROUPS = {
        "rank": ("_rank", "_candidates", "_score", "_order", "_browse", "_browse_candidates",
                 "strict_candidates", "newest_candidates", "browse_candidates"),
        "count": ("_count_and_facets", "_budgeted_count", "_count", "_facets", "_shape_facets"),
        "load": ("load_records",),
        "fallback": ("_like_fallback", "_suggest", "relaxed_candidates"),
        "other": ("former_member_ids", "withdrawn_library_ids", "_library_ids"),
    }

    def __init__(self):
        from jala.search import engine

        self.engine = engine
        self.current = {}
        self.originals = {}
        self.group_of = {}
        for group, names in self.GROUPS.items():
            for name in names:
                original = getattr(engine, name, None)
                if callable(original):
                    self.originals[name] = original
                    self.group_of[name] = group
                    setattr(engine, name, self._wrap(name, original))

    def _wrap(self, name, fn):
        group = self.group_of[name]

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                self.current[group] = self.current.get(group, 0.0) + elapsed
        return wrapper

    def take(self):
        out, self.current = self.current, {}
        return out

    def restore(self):
        for name, fn in self.originals.items():
            setattr(self.engine, name, fn)


def code_version():
    """HEAD commit, and a short hash of jala/ as it is on disk (it may differ from HEAD)."""
    import hashlib
    import subprocess

    try:
        head = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %ad",
                               "--date=format:%Y-%m-%d %H:%M"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "jala"],
                               capture_output=True, text=True, timeout=10).stdout.split("\n")
        dirty = [line[3:] for line in dirty if line.strip()]
    except (OSError, subprocess.SubprocessError):
        head, dirty = "?", []
    digest = hashlib.sha1()
    for path in sorted((ROOT / "jala").rglob("*.py")):
        digest.update(path.read_bytes())
    text = f"HEAD {head}; jala/*.py sha1 {digest.hexdigest()[:10]}"
    if dirty:
        text += "; uncommitted changes in " + ", ".join(dirty[:6])
    return text


def close_database(app, dbname, url, keep, kept_note=""):
    """End the app's connections, then keep (and say where) or drop the benchmark database."""
    from jala.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if keep:
        log(f"kept database {dbname} ({url}){kept_note}")
        return False
    drop_database(dbname)
    log(f"dropped database {dbname}")
    return True
