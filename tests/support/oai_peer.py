"""A second, independent OAI-PMH repository on loopback: pyoai's server over a few records."""
import contextlib
from datetime import datetime
from types import SimpleNamespace
from urllib.parse import parse_qs, parse_qsl

from oaipmh import common, error, metadata, server

from tests.support.browser import serving

# pyoai 2.5 decodes its own resumption tokens with cgi.parse_qs, gone since Python 3.8
server.cgi = SimpleNamespace(parse_qs=parse_qs)


class _Repository:
    """pyoai's batching interface over ``[(identifier, datestamp, {dc field: [values]})]``."""

    def __init__(self, records, deleted=()):
        self.items = [(common.Header(None, identifier, stamp, ["books"], identifier in deleted),
                       common.Metadata(None, fields), None)
                      for identifier, stamp, fields in records]

    def identify(self):
        return common.Identify(repositoryName="pyoai peer", baseURL="http://127.0.0.1/",
                               protocolVersion="2.0", adminEmails=["peer@example.org"],
                               earliestDatestamp=datetime(2000, 1, 1), deletedRecord="transient",
                               granularity="YYYY-MM-DDThh:mm:ssZ", compression=["identity"])

    def _matching(self, from_, until):
        return [item for item in self.items
                if (from_ is None or item[0].datestamp() >= from_)
                and (until is None or item[0].datestamp() <= until)]

    def listRecords(self, metadataPrefix=None, from_=None, until=None, set=None, cursor=0,
                    batch_size=10):
        if metadataPrefix != "oai_dc":
            raise error.CannotDisseminateFormatError(metadataPrefix)
        return self._matching(from_, until)[cursor:cursor + batch_size]

    def listIdentifiers(self, metadataPrefix=None, from_=None, until=None, set=None, cursor=0,
                        batch_size=10):
        return [h for h, _, _ in self.listRecords(metadataPrefix, from_, until, set, cursor,
                                                  batch_size)]


@contextlib.contextmanager
def pyoai_peer(records, deleted=(), batch_size=3):
    """Serve the records by pyoai's BatchingServer; yields the base URL (GET only)."""
    registry = metadata.MetadataRegistry()
    registry.registerWriter("oai_dc", server.oai_dc_writer)
    peer = server.BatchingServer(_Repository(records, deleted), registry,
                                 resumption_batch_size=batch_size)

    def app(environ, start_response):
        body = peer.handleRequest(dict(parse_qsl(environ.get("QUERY_STRING", ""))))
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [body if isinstance(body, bytes) else body.encode("utf-8")]

    with serving(app) as base:
        yield base + "/oai"
