"""Full harvests by real harvesters: Sickle against our provider, and our harvester against
our provider and pyoai's server; incremental and resumed after a crash."""
import json
import os
import statistics
import time
from datetime import datetime

import pytest
import requests
from sickle import Sickle
from sqlalchemy import text

from jala.catalog.importer import import_stream
from jala.catalog.readers import read_jsonl
from jala.extensions import db
from jala.protocols.harvest_cli import harvest_command
from jala.protocols.oai_harvest import harvest_source, run_harvest
from tests.support.browser import serving
from tests.support.oai_peer import pyoai_peer

# JXUFE holds the first 40, NCU the rest; pages of 7 (OAI_BENCH_RECORDS: a bigger run, timed)
RECORDS = int(os.environ.get("OAI_BENCH_RECORDS", "57"))
PAGE_SIZE = int(os.environ.get("OAI_BENCH_PAGE_SIZE", "7"))


@pytest.fixture
def provider(private_app):
    """Our provider on loopback over committed records; yields ``(app, base URL)``."""
    lines = [json.dumps({"source_id": f"s{i}", "title": f"书名 {i}", "authors": [f"作者{i}"],
                         "isbn": f"978730{i:07d}", "year": 2000 + i % 20,
                         "holdings": [{"library": "JXUFE" if i < 40 else "NCU"}]},
                        ensure_ascii=False).encode() for i in range(RECORDS)]
    with private_app.app_context():
        import_stream(read_jsonl(lines), "JXUFE", format_name="jsonl")
    with serving(private_app) as base:
        private_app.config.update(PUBLIC_URL=base, OAI_PAGE_SIZE=PAGE_SIZE, OAI_SETTLE_SECONDS=0)
        yield private_app, base


def _ids(app, where="true"):
    with app.app_context():
        return {f"{i}" for i in db.session.execute(
            text(f"SELECT id FROM records WHERE {where}")).scalars()}


@pytest.mark.parametrize("prefix", ["oai_dc", "marc21"])
def test_sickle_harvests_every_record_exactly_once(provider, prefix):
    app, base = provider
    harvested = [r.header.identifier for r in Sickle(base + "/oai").ListRecords(
        metadataPrefix=prefix, ignore_deleted=True)]
    assert len(harvested) == RECORDS == len(set(harvested))
    assert {h.rsplit(":", 1)[1] for h in harvested} == _ids(app)


def test_sickle_harvests_each_set_exactly_once(provider):
    app, base = provider
    client = Sickle(base + "/oai")
    sets = {s.setSpec for s in client.ListSets()}
    assert {"JXUFE", "NCU"} <= sets
    for spec, count in (("JXUFE", 40), ("NCU", RECORDS - 40)):
        harvested = [h.identifier for h in client.ListIdentifiers(metadataPrefix="oai_dc",
                                                                   set=spec)]
        assert len(harvested) == count == len(set(harvested))


def test_sickle_by_post(provider):
    _, base = provider
    records = list(Sickle(base + "/oai", http_method="POST").ListRecords(metadataPrefix="oai_dc"))
    assert len(records) == RECORDS


def _harvest(app, *args):
    result = app.test_cli_runner().invoke(harvest_command, list(args))
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_our_harvester_takes_a_set_then_only_what_changed(provider):
    app, base = provider
    first = _harvest(app, base + "/oai", "--library", "NCU", "--set", "JXUFE")
    assert first.startswith("40 read:") and "0 skipped" in first
    # the NCU copies joined the JXUFE records: their datestamps moved, and so they come again
    again = _harvest(app, base + "/oai", "--library", "NCU", "--set", "JXUFE")
    assert "0 new" in again and "0 updated" in again
    with app.app_context():
        assert db.session.execute(text(
            "SELECT count(*) FROM source_records s JOIN libraries l ON l.id = s.library_id "
            "WHERE l.code = 'NCU'")).scalar() == 40


class _CrashAfter(requests.Session):
    """A session whose connection breaks after ``pages`` answers."""

    def __init__(self, pages):
        super().__init__()
        self.pages = pages

    def get(self, *args, **kwargs):
        if self.pages == 0:
            raise requests.ConnectionError("the line went dead")
        self.pages -= 1
        return super().get(*args, **kwargs)


def test_a_harvest_cut_short_goes_on_from_its_last_page(provider):
    app, base = provider
    with app.app_context():
        source = harvest_source("NCU", base + "/oai", metadata_prefix="oai_dc")
        db.session.commit()
        with pytest.raises(Exception, match="did not answer"):
            run_harvest(source, http=_CrashAfter(3))
        db.session.rollback()
        assert source.resumption_token and source.run_counts["read"] == 3 * PAGE_SIZE
        stats = run_harvest(source)
        assert stats.read == RECORDS and source.last_datestamp
        assert db.session.execute(text(
            "SELECT count(*) FROM source_records s JOIN libraries l ON l.id = s.library_id "
            "WHERE l.code = 'NCU' AND s.format = 'jsonl'")).scalar() == RECORDS


def test_our_harvester_against_pyoai(private_app):
    records = [(f"oai:peer:{i}", datetime(2024, 1, 1 + i), {
        "title": [f"Peer book {i}"], "creator": [f"Author {i}"], "date": [f"20{10 + i}"],
        "identifier": [f"ISBN 97803064061{i:02d}"], "type": ["Text"], "language": ["eng"]})
        for i in range(8)]
    with pyoai_peer(records, deleted={"oai:peer:7"}) as url:
        first = _harvest(private_app, url, "--library", "JXAU",
                         "--metadata-prefix", "oai_dc")
        assert first.startswith("8 read: 7 new,") and "1 skipped" in first
        again = _harvest(private_app, url, "--library", "JXAU", "--metadata-prefix", "oai_dc")
        assert again.startswith("1 read:")  # from the newest datestamp, inclusive
    with private_app.app_context():
        titles = db.session.execute(text("SELECT title FROM records")).scalars().all()
    assert "Peer book 3" in titles


def test_harvest_speed(provider, capsys):
    """Prints records/s of a full Sickle harvest and the provider's p50/p95 per page."""
    _, base = provider
    started = time.perf_counter()
    count = sum(1 for _ in Sickle(base + "/oai").ListRecords(metadataPrefix="marc21"))
    elapsed = time.perf_counter() - started
    page_times, params = [], {"verb": "ListRecords", "metadataPrefix": "marc21"}
    while params:
        began = time.perf_counter()
        body = requests.get(base + "/oai", params=params, timeout=60).text
        page_times.append(time.perf_counter() - began)
        token = body.split("<resumptionToken", 1)[-1].split(">", 1)[-1].split("<", 1)[0]
        params = {"verb": "ListRecords", "resumptionToken": token} if "<resumptionToken" in \
            body and token else None
    page_times.sort()
    with capsys.disabled():
        print(f"\nSickle full harvest (marc21): {count} records in {elapsed:.2f}s "
              f"({count / elapsed:.0f} records/s, pages of {PAGE_SIZE}); per page "
              f"p50 {statistics.median(page_times) * 1000:.0f} ms, "
              f"p95 {page_times[int(0.95 * (len(page_times) - 1))] * 1000:.0f} ms")
    assert count == RECORDS
