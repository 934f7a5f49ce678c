"""COUNTER Release 5.1 reports of the portal's usage: the Platform Report and the Title Report.

One PR and one TR per member library: the customer is the reader's home library.

The rules are plain functions over plain rows (tested without HTTP or a database); the two
``*_report`` functions at the end read the rows and apply them.

How the portal's events become COUNTER metrics
----------------------------------------------
- ``Searches_Platform``: rows of the search log (``search_log``) asked on the portal's search
  page (channel ``page``) with a query, first result page only — turning pages or re-sorting is
  not a new search. Searches through the API, SRU and book lists are machines' (COUNTER's
  Searches_Automated/Federated, not in the PR) and are left out. The search log has no session,
  so searches are not double-click filtered.
- ``Total_Item_Investigations``: usage events ``record_view`` (a record page), ``link_click``
  (a full-text link followed out to another platform) and ``catalogue_download`` (a MARC
  download — metadata): every action on an item that is not its content.
- ``Total_Item_Requests``: none. A COUNTER Request is content the platform itself delivers;
  the portal delivers none (the full text is on the licensing library's platform, a MARC
  record is metadata), so the Requests metrics are always 0 and — as COUNTER R5.1 omits
  metrics without usage from the JSON — never appear in a report. They stay valid
  ``metric_type`` values (asking for them finds no usage, Exception 3030).
- ``Unique_Item_Investigations``: each item once per session (``session_key``: a signed-in
  session, or IP and browser per day); events without a key count as a session each. The
  roll-up's sweep clears the keys of events older than the previous month (``jala.usage.
  rollup``): harvest a month's reports within the month after it.
- ``Unique_Title_Investigations``: only for books (COUNTER); a record is one title, so it
  equals the unique item count of book records.
- Double-click filtering (COUNTER 7.2): the same action (kind) on the same item in the same
  session within 30 seconds counts once — the later click is kept.
- Months are Beijing-time calendar months; only whole months are reported (the current month
  is "not ready", Exception 3031).
- Data types come from the record's type (``DATA_TYPES``); the TR lists titles (books,
  theses, reports…); articles are items of a journal and appear only in the PR.
- A report covers at most ``MAX_REPORT_MONTHS`` months (36): a longer span is Exception 3020.
- Granularity ``Total`` is optional in COUNTER and not supported: Exception 3060, by month.
"""
import calendar
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

RELEASE = "5.1"
PLATFORM = "JALA Portal"
PLATFORM_ID = "jala"  # the namespace of customer IDs in Institution_ID
CREATED_BY = "JALA Portal (Jiangxi Academic Library Alliance)"
DOUBLE_CLICK_SECONDS = 30

INVESTIGATION_KINDS = ("record_view", "link_click", "catalogue_download")
REQUEST_KINDS = ()  # the portal delivers no content itself: nothing is a COUNTER Request
MAX_REPORT_MONTHS = 36

PR_METRICS = ("Searches_Platform", "Total_Item_Investigations", "Total_Item_Requests",
              "Unique_Item_Investigations", "Unique_Item_Requests",
              "Unique_Title_Investigations", "Unique_Title_Requests")
TR_METRICS = PR_METRICS[1:]
ITEM_METRICS = TR_METRICS

# record type -> (PR Data_Type, TR Data_Type or None when the record is no title)
DATA_TYPES = {
    "book": ("Book", "Book"), "ebook": ("Book", "Book"), "compilation": ("Book", "Book"),
    "article": ("Article", None), "journal": ("Journal", "Journal"),
    "thesis": ("Thesis_or_Dissertation", "Thesis_or_Dissertation"),
    "conference": ("Conference", "Conference"), "report": ("Report", "Report"),
    "newspaper": ("Newspaper_or_Newsletter", "Newspaper_or_Newsletter"),
    "standard": ("Standard", "Standard"), "patent": ("Patent", "Patent"),
    "map": ("Image", "Other"), "score": ("Other", "Other"), "audio": ("Sound", "Other"),
    "video": ("Audiovisual", "Other"), "database": ("Other", "Other"),
    "software": ("Software", "Other"), "other": ("Other", "Other"),
}

REPORTS = {
    "pr": ("Platform Report", "Searches, investigations and requests on the JALA Portal."),
    "tr": ("Title Report", "Investigations and requests of each title on the JALA Portal."),
}

# the report parameters of the COUNTER_SUSHI API; any other is answered with Exception 3050
CREDENTIAL_PARAMS = ("customer_id", "requestor_id", "api_key", "platform")
PR_PARAMS = CREDENTIAL_PARAMS + ("begin_date", "end_date", "metric_type", "data_type",
                                 "access_method", "attributes_to_show", "granularity")
TR_PARAMS = PR_PARAMS + ("access_type", "yop", "item_id")
PR_ATTRIBUTES = ("Access_Method",)
TR_ATTRIBUTES = ("YOP", "Access_Method")

EXCEPTIONS = {  # code: (message, HTTP status when the exception is the whole answer)
    1000: ("Service Not Available", 503),
    1020: ("Client has made too many requests", 429),
    1030: ("Insufficient Information to Process Request", 400),
    2000: ("Requestor Not Authorized to Access Service", 401),
    2010: ("Requestor is Not Authorized to Access Usage for Institution", 403),
    2020: ("APIKey Invalid", 401),
    3020: ("Invalid Date Arguments", 400),
    3030: ("No Usage Available for Requested Dates", 200),
    3031: ("Usage Not Ready for Requested Dates", 200),
    3050: ("Parameter Not Recognized in this Context", 200),
    3060: ("Invalid ReportFilter Value", 200),
}


class SushiError(Exception):
    """A COUNTER exception that is the whole answer (an HTTP 4xx/5xx with its JSON)."""

    def __init__(self, code, data=None):
        super().__init__(code)
        self.code, self.data = code, data

    @property
    def status(self):
        return EXCEPTIONS[self.code][1]

    def body(self):
        return exception(self.code, self.data)


def exception(code, data=None):
    """A COUNTER Exception object."""
    body = {"Code": code, "Message": EXCEPTIONS[code][0]}
    if data:
        body["Data"] = data
    return body


# --- the request ------------------------------------------------------------------------------

class ReportRequest(NamedTuple):
    """A checked report request: whole months, the metrics and attributes asked for."""

    report_id: str
    begin: date  # the first day of the first month
    end: date  # the first day of the last month
    metrics: tuple
    data_types: tuple  # COUNTER Data_Types asked for (empty: all)
    attributes: tuple
    exceptions: list  # warnings for the Report_Header
    filters: dict  # the Report_Filters to echo


_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def parse_month(value):
    """The first day of the month of ``YYYY-MM`` or ``YYYY-MM-DD``; None when malformed."""
    match = _MONTH.match(value or "")
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), match[3]
    if not 1 <= month <= 12 or year < 1900:
        return None
    if day is not None and not 1 <= int(day) <= calendar.monthrange(year, month)[1]:
        return None
    return date(year, month, 1)


def month_key(day):
    """``YYYY-MM`` of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def last_day(first):
    """The last day of the month beginning on ``first``."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def next_month(first):
    """The first day of the month after."""
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _split(value):
    return tuple(dict.fromkeys(v.strip() for v in (value or "").split("|") if v.strip()))


def parse_report_request(report_id, args, today):
    """Check a report request's parameters (COUNTER_SUSHI 5.1); raises ``SushiError``.

    ``args`` maps parameter names (lower case) to strings; ``today`` is the Beijing date.
    """
    if not args.get("begin_date") or not args.get("end_date"):
        raise SushiError(1030, "begin_date and end_date are required")
    begin, end = parse_month(args["begin_date"]), parse_month(args["end_date"])
    if begin is None or end is None or end < begin:
        raise SushiError(3020, "begin_date and end_date are yyyy-mm or yyyy-mm-dd, "
                               "begin_date not after end_date")
    span = (end.year - begin.year) * 12 + end.month - begin.month + 1
    if span > MAX_REPORT_MONTHS:
        raise SushiError(3020, f"a report covers at most {MAX_REPORT_MONTHS} months; "
                               f"{month_key(begin)} to {month_key(end)} is {span}: "
                               "ask for it in parts")
    warnings = []
    known = PR_PARAMS if report_id == "pr" else TR_PARAMS
    unknown = sorted(k for k in args if k not in known)
    if unknown:
        warnings.append(exception(3050, ", ".join(unknown)))
    allowed = PR_METRICS if report_id == "pr" else TR_METRICS
    metrics = _split(args.get("metric_type"))
    bad = [m for m in metrics if m not in allowed]
    metrics = tuple(m for m in metrics if m in allowed) or allowed
    invalid = [f"metric_type={m}" for m in bad]
    data_types = _split(args.get("data_type"))
    known_types = {pair[0 if report_id == "pr" else 1] for pair in DATA_TYPES.values()}
    if report_id == "pr":
        known_types.add("Platform")
    invalid += [f"data_type={t}" for t in data_types if t not in known_types]
    data_types = tuple(t for t in data_types if t in known_types)
    attribute_names = PR_ATTRIBUTES if report_id == "pr" else TR_ATTRIBUTES
    asked = _split(args.get("attributes_to_show"))
    invalid += [f"attributes_to_show={a}" for a in asked if a not in attribute_names]
    attributes = tuple(a for a in asked if a in attribute_names)
    if args.get("access_method") and args["access_method"] != "Regular":
        invalid.append(f"access_method={args['access_method']}")
    if args.get("platform") and args["platform"].lower() not in (PLATFORM.lower(), PLATFORM_ID):
        invalid.append(f"platform={args['platform']}")
    if args.get("granularity") and args["granularity"] != "Month":
        invalid.append(f"granularity={args['granularity']} (usage is reported by month)")
    if invalid:
        warnings.append(exception(3060, "; ".join(invalid)))
    ready_until = today.replace(day=1) - timedelta(days=1)  # the last whole month
    if end > ready_until:
        warnings.append(exception(3031, f"usage is ready up to {month_key(ready_until)}"))
    filters = {"Begin_Date": begin.isoformat(), "End_Date": last_day(end).isoformat()}
    if args.get("platform"):
        filters["Platform"] = PLATFORM
    if args.get("metric_type") and metrics != allowed:
        filters["Metric_Type"] = list(metrics)
    if data_types:
        filters["Data_Type"] = list(data_types)
    if args.get("access_method") == "Regular":
        filters["Access_Method"] = ["Regular"]
    return ReportRequest(report_id, begin, end, metrics, data_types, attributes, warnings,
                         filters)


# --- counting ---------------------------------------------------------------------------------

class Event(NamedTuple):
    """One usage event as COUNTER sees it."""

    at: datetime
    kind: str
    record_id: int
    session_key: str | None


BEIJING = timedelta(hours=8)  # Asia/Shanghai has kept UTC+8, without summer time, since 1991


def local_month(at):
    """``YYYY-MM`` of an instant in Beijing time."""
    local = at.astimezone(UTC) + BEIJING
    return f"{local.year:04d}-{local.month:02d}"


def filter_double_clicks(events, seconds=DOUBLE_CLICK_SECONDS):
    """The events left after COUNTER's double-click rule.

    Of two identical actions (same session, item and kind) within ``seconds`` only the later
    counts; a chain of them collapses to its last.
    """
    ordered = sorted(events, key=lambda e: e.at)
    dropped, last = set(), {}
    for n, event in enumerate(ordered):
        key = (event.session_key, event.record_id, event.kind)
        if event.session_key is not None and key in last:
            previous = last[key]
            if (event.at - ordered[previous].at).total_seconds() <= seconds:
                dropped.add(previous)
        last[key] = n
    return [event for n, event in enumerate(ordered) if n not in dropped]


def item_counts(events, title_data_type=lambda record_id: "Book"):
    """``{record_id: {metric: {month: n}}}`` from filtered events.

    ``title_data_type(record_id)`` says which records are books (for the Unique_Title metrics).
    """
    counts = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    seen = set()  # (class, month, session, record): an item once per session
    books = {}
    for n, event in enumerate(events):
        if event.kind not in INVESTIGATION_KINDS:
            continue
        month = local_month(event.at)
        record = event.record_id
        session = event.session_key if event.session_key is not None else n
        if record not in books:
            books[record] = title_data_type(record) == "Book"
        record_counts = counts[record]
        for cls in (("Investigations", "Requests") if event.kind in REQUEST_KINDS
                    else ("Investigations",)):
            record_counts[f"Total_Item_{cls}"][month] += 1
            key = (cls, month, session, record)
            if key not in seen:
                seen.add(key)
                record_counts[f"Unique_Item_{cls}"][month] += 1
                if books[record]:
                    record_counts[f"Unique_Title_{cls}"][month] += 1
    return counts


def performance(counts, metrics, begin, end):
    """The COUNTER Performance object: the asked metrics with usage, their non-zero months."""
    first, last = month_key(begin), month_key(end)
    result = {}
    for metric in metrics:
        months = {m: n for m, n in sorted(counts.get(metric, {}).items())
                  if first <= m <= last and n > 0}
        if months:
            result[metric] = months
    return result


def merge(into, counts):
    """Add one item's ``{metric: {month: n}}`` to another."""
    for metric, months in counts.items():
        for month, n in months.items():
            into[metric][month] += n
    return into


# --- the reports ------------------------------------------------------------------------------

def report_header(req, institution_name, customer_id, created):
    """The Report_Header of a PR or TR (``created``: an aware instant)."""
    report_name = REPORTS[req.report_id][0]
    header = {
        "Release": RELEASE, "Report_ID": req.report_id.upper(), "Report_Name": report_name,
        "Created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Created_By": CREATED_BY,
        "Institution_ID": {"Proprietary": [f"{PLATFORM_ID}:{customer_id}"]},
        "Institution_Name": institution_name,
        "Report_Filters": req.filters,
        "Registry_Record": "",  # not registered with COUNTER: the value stays blank
    }
    if req.attributes:
        header["Report_Attributes"] = {"Attributes_To_Show": list(req.attributes)}
    return header


def _finish(header, req, items):
    exceptions = list(req.exceptions)
    if not items:
        exceptions.append(exception(3030, f"no usage from {req.filters['Begin_Date']} to "
                                          f"{req.filters['End_Date']}"))
    if exceptions:
        header["Exceptions"] = exceptions
    return {"Report_Header": header, "Report_Items": items}


def _wanted(req, data_type):
    return not req.data_types or data_type in req.data_types


def _attributes(req, extra=None):
    attributes = dict(extra or {})
    if "Access_Method" in req.attributes:
        attributes["Access_Method"] = "Regular"
    return attributes


def build_pr(req, header, searches, counts, pr_type_of):
    """The Platform Report from searches ``{month: n}`` and ``item_counts`` output.

    ``pr_type_of(record_id)`` is the record's PR Data_Type.
    """
    rows = []
    if "Searches_Platform" in req.metrics and _wanted(req, "Platform"):
        searched = performance({"Searches_Platform": searches}, ("Searches_Platform",),
                               req.begin, req.end)
        if searched:
            rows.append({"Data_Type": "Platform", **_attributes(req), "Performance": searched})
    by_type = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for record_id, record_counts in counts.items():
        merge(by_type[pr_type_of(record_id)], record_counts)
    item_metrics = [m for m in req.metrics if m != "Searches_Platform"]
    for data_type in sorted(by_type):
        if not _wanted(req, data_type):
            continue
        perf = performance(by_type[data_type], item_metrics, req.begin, req.end)
        if perf:
            rows.append({"Data_Type": data_type, **_attributes(req), "Performance": perf})
    items = [{"Platform": PLATFORM, "Attribute_Performance": rows}] if rows else []
    return _finish(header, req, items)


def item_id(record):
    """The Item_ID of a record: its ISBN (hyphenated 13 digits), ISSN, DOI, and our own id."""
    ids = {"Proprietary": f"{PLATFORM_ID}:{record['id']}"}
    for isbn in record.get("isbn") or ():
        if re.fullmatch(r"97[89]-[0-9]+-[0-9]+-[0-9]+-[0-9]", isbn or "") and len(isbn) == 17:
            ids["ISBN"] = isbn
            break
    for issn in record.get("issn") or ():
        if re.fullmatch(r"[0-9]{4}-[0-9]{3}[0-9X]", issn or ""):
            ids["Print_ISSN"] = issn
            break
    if re.fullmatch(r"10\.[1-9][0-9]{3}[0-9.]*/.+", record.get("doi") or ""):
        ids["DOI"] = record["doi"]
    return ids


def build_tr(req, header, counts, records):
    """The Title Report: one Report_Item per title with usage.

    ``records`` maps record ids to ``{"id", "title", "publisher", "type", "year", "isbn",
    "issn", "doi"}``; records that are no title (articles) are left out.
    """
    items = []
    for record_id in sorted(counts, key=lambda r: (records.get(r, {}).get("title") or "", r)):
        record = records.get(record_id)
        if record is None:
            continue
        data_type = DATA_TYPES.get(record["type"], DATA_TYPES["other"])[1]
        if data_type is None or not _wanted(req, data_type):
            continue
        perf = performance(counts[record_id], req.metrics, req.begin, req.end)
        if not perf:
            continue
        extra = {"Data_Type": data_type}
        if "YOP" in req.attributes:
            year = record.get("year")
            extra["YOP"] = f"{year:04d}" if year and 1 <= year <= 9999 else "0001"
        items.append({
            "Title": record["title"], "Publisher": record.get("publisher") or "",
            "Item_ID": item_id(record), "Platform": PLATFORM,
            "Attribute_Performance": [{**_attributes(req, extra), "Performance": perf}],
        })
    return _finish(header, req, items)
