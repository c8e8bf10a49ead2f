#!/usr/bin/env python3
"""Writes the format fixtures in this folder from the six EDR-Freeze
regression events (../edr-freeze/*/*.json, the evtx crate's JSON layout)
and the OTRF captures (../otrf/). Python 3 standard library only; the
output is the same on every run. See README.md for what each file is.

usage: tests/data/formats/make-fixtures.py
"""
import bz2  # noqa: F401  (zipfile needs it for ZIP_BZIP2)
import csv
import gzip
import io
import json
import os
import zipfile
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)

# The regression samples, in the order tests/regression.rs lists them.
SAMPLES = [
    ("proc_access_win_werfaultsecure_msmpeng_access", "387df17d-3b04-448f-8669-9e7fd5e5fd8c"),
    ("proc_access_win_susp_dbgcore_dbghelp_load", "9f5c1d59-33be-4e60-bcab-85d2f566effd"),
    ("image_load_win_werfaultsecure_dbgcore_dbghelp_load", "8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b"),
    ("image_load_win_susp_dbgcore_dbghelp_load", "416bc4a2-7217-4519-8dc7-c3271817f1d5"),
    ("proc_creation_win_hktl_edr_freeze", "c598cc0c-9e70-4852-b9eb-8921af79f598"),
    ("proc_creation_win_werfaultsecure_abuse", "1f0b4cac-9c81-41f4-95d0-8475ff46b3e2"),
]
OTRF = [
    "cmd_lsass_memory_dumpert_syscalls_2020-10-1822561997.json",
    "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json",
    "rdp_interactive_taskmanager_lsass_dump_2020-09-22043748.json",
    "otrf_eid10_nearmiss_subset.jsonl",
]
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
ZIP_TIME = (2025, 11, 27, 0, 0, 0)
TASKS = {1: "Process Create (rule: ProcessCreate)", 7: "Image loaded (rule: ImageLoad)", 10: "Process accessed (rule: ProcessAccess)"}


def load_events():
    events = []
    for folder, rule_id in SAMPLES:
        with open(os.path.join(DATA, "edr-freeze", folder, rule_id + ".json"), encoding="utf-8") as fh:
            events.append(json.load(fh))
    return events


def text(value):
    """XML character data, with quotes written as references as wevtutil does."""
    return escape(str(value), {'"': "&quot;"})


def attribute(value):
    return escape(str(value), {"'": "&apos;"})


def system_element(name, value):
    if value is None:
        return f"<{name}/>"
    if isinstance(value, dict):
        attributes = "".join(f" {key}='{attribute(v)}'" for key, v in value.get("#attributes", {}).items())
        if "#text" in value:
            return f"<{name}{attributes}>{text(value['#text'])}</{name}>"
        return f"<{name}{attributes}/>"
    return f"<{name}>{text(value)}</{name}>"


def message(event):
    """The rendered message: what RenderingInfo and Winlogbeat's `message` carry."""
    data = event["Event"]["EventData"]
    title = TASKS[event["Event"]["System"]["EventID"]].split(" (")[0]
    return title + ":\r\n" + "\r\n".join(f"{key}: {value}" for key, value in data.items())


def rendering_info(event):
    system = event["Event"]["System"]
    return (
        "<RenderingInfo Culture='en-US'>"
        f"<Message>{text(message(event))}</Message><Level>Information</Level>"
        f"<Task>{text(TASKS[system['EventID']])}</Task><Opcode>Info</Opcode>"
        f"<Channel>{text(system['Channel'])}</Channel><Provider>{text(system['Provider']['#attributes']['Name'])}</Provider>"
        "<Keywords></Keywords></RenderingInfo>"
    )


def xml_event(event, rendering=False, data_override=None):
    body = event["Event"]
    system = "".join(system_element(name, value) for name, value in body["System"].items())
    items = data_override if data_override is not None else [(k, text(v)) for k, v in body["EventData"].items()]
    data = "".join(f"<Data Name='{name}'>{value}</Data>" for name, value in items)
    extra = rendering_info(event) if rendering else ""
    return f"<Event xmlns='{EVENT_NS}'><System>{system}</System><EventData>{data}</EventData>{extra}</Event>"


def saved_document(event_lines):
    """Event Viewer's "Save as XML" layout: declaration, <Events> root."""
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', "<Events>", *event_lines, "</Events>"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def saved_xml(events):
    """Event Viewer's "Save as XML" of `events`, with their RenderingInfo."""
    return saved_document([xml_event(event, rendering=True) for event in events])


def wevtutil_xml(events):
    """`wevtutil qe LOG /f:xml`: one <Event> after another, no root, no declaration."""
    return "".join(xml_event(event) + "\r\n" for event in events)


def ndjson(events):
    return "".join(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n" for event in events).encode()


def json_array(events):
    return (json.dumps(events, indent=2, ensure_ascii=False) + "\n").encode()


def put(target, path, value):
    *parents, last = path.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value


def basename(path):
    return path.replace("/", "\\").rsplit("\\", 1)[-1]


# What Winlogbeat's Sysmon module moves out of winlog.event_data, by Event
# ID: (field, ECS path, type). Renamed fields leave event_data; copied ones stay.
RENAMED = {
    1: [("ProcessGuid", "process.entity_id", str), ("ProcessId", "process.pid", int), ("Image", "process.executable", str),
        ("CommandLine", "process.command_line", str), ("CurrentDirectory", "process.working_directory", str),
        ("ParentProcessGuid", "process.parent.entity_id", str), ("ParentProcessId", "process.parent.pid", int),
        ("ParentImage", "process.parent.executable", str), ("ParentCommandLine", "process.parent.command_line", str),
        ("OriginalFileName", "process.pe.original_file_name", str)],
    7: [("ProcessGuid", "process.entity_id", str), ("ProcessId", "process.pid", int), ("Image", "process.executable", str),
        ("ImageLoaded", "file.path", str), ("OriginalFileName", "file.pe.original_file_name", str)],
    10: [("SourceProcessGUID", "process.entity_id", str), ("SourceProcessId", "process.pid", int),
         ("SourceThreadId", "process.thread.id", int), ("SourceImage", "process.executable", str)],
}
COPIED = {
    1: [("Company", "process.pe.company"), ("Description", "process.pe.description"),
        ("FileVersion", "process.pe.file_version"), ("Product", "process.pe.product")],
    7: [("Signature", "file.code_signature.subject_name"), ("SignatureStatus", "file.code_signature.status"),
        ("Company", "file.pe.company"), ("Description", "file.pe.description"),
        ("FileVersion", "file.pe.file_version"), ("Product", "file.pe.product")],
}
HASH_PREFIX = {1: "process", 7: "file"}


def winlogbeat(event):
    """One event as Winlogbeat 8 with the Sysmon module ships it."""
    system = event["Event"]["System"]
    data = {key: str(value) for key, value in event["Event"]["EventData"].items()}
    event_id = system["EventID"]
    provider = system["Provider"]["#attributes"]
    utc = data.pop("UtcTime")
    out = {
        "@timestamp": utc.replace(" ", "T") + "Z",
        "agent": {"type": "winlogbeat", "version": "8.15.0"},
        "ecs": {"version": "8.0.0"},
        "event": {"code": str(event_id), "kind": "event", "module": "sysmon", "provider": provider["Name"],
                  "created": system["TimeCreated"]["#attributes"]["SystemTime"]},
        "host": {"name": system["Computer"]},
        "log": {"level": "information"},
        "message": message(event),
        "winlog": {
            "api": "wineventlog", "channel": system["Channel"], "computer_name": system["Computer"],
            "event_id": str(event_id), "provider_name": provider["Name"], "provider_guid": "{" + provider["Guid"] + "}",
            "record_id": system["EventRecordID"], "version": system["Version"], "opcode": "Info",
            "task": TASKS[event_id],
            "process": {"pid": system["Execution"]["#attributes"]["ProcessID"],
                        "thread": {"id": system["Execution"]["#attributes"]["ThreadID"]}},
            "user": {"identifier": system["Security"]["#attributes"]["UserID"], "domain": "NT AUTHORITY",
                     "name": "SYSTEM", "type": "User"},
        },
    }
    rule = data.pop("RuleName", "-")
    if rule != "-":
        out["rule"] = {"name": rule}
    for field, path, kind in RENAMED.get(event_id, []):
        if field in data:
            put(out, path, kind(data.pop(field)))
    for field, path in COPIED.get(event_id, []):
        if field in data:
            put(out, path, data[field])
    if "Hashes" in data and event_id in HASH_PREFIX:
        prefix = HASH_PREFIX[event_id]
        for part in data.pop("Hashes").split(","):
            algorithm, value = part.split("=")
            key = f"{prefix}.pe.imphash" if algorithm == "IMPHASH" else f"{prefix}.hash.{algorithm.lower()}"
            put(out, key, value.lower())
    if event_id == 1 and "\\" in data.get("User", ""):
        domain, name = data.pop("User").split("\\")
        out["user"] = {"domain": domain, "name": name}
    if "executable" in out.get("process", {}):
        out["process"]["name"] = basename(out["process"]["executable"])
    if "path" in out.get("file", {}):
        path = out["file"]["path"]
        out["file"]["name"] = basename(path)
        out["file"]["directory"] = path[: -len(basename(path)) - 1]
        out["file"]["extension"] = basename(path).rsplit(".", 1)[-1]
    out["winlog"]["event_data"] = data
    return out


def winlogbeat_ndjson(events):
    return "".join(json.dumps(winlogbeat(event), separators=(",", ":")) + "\n" for event in events).encode()


CSV_SYSTEM = ["EventID", "Channel", "Provider_Name", "Computer", "EventRecordID", "TimeCreated_SystemTime"]


def flat(event):
    system = event["Event"]["System"]
    row = {
        "EventID": system["EventID"],
        "Channel": system["Channel"],
        "Provider_Name": system["Provider"]["#attributes"]["Name"],
        "Computer": system["Computer"],
        "EventRecordID": system["EventRecordID"],
        "TimeCreated_SystemTime": system["TimeCreated"]["#attributes"]["SystemTime"],
    }
    row.update(event["Event"]["EventData"])
    return row


def csv_bytes(rows, extra_cells=None):
    """CSV as Excel writes it: UTF-8 byte order mark, CRLF, quotes where needed."""
    columns = list(CSV_SYSTEM)
    for row in rows:
        columns += [key for key in row if key not in columns]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for index, row in enumerate(rows):
        cells = ["" if row.get(column) is None else str(row[column]) for column in columns]
        writer.writerow(cells + (extra_cells or {}).get(index, []))
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def utf16le(text_value):
    return b"\xff\xfe" + text_value.encode("utf-16-le")


def gzip_bytes(content, name):
    buffer = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buffer, mtime=0) as fh:
        fh.write(content)
    return buffer.getvalue()


class Unseekable(io.RawIOBase):
    """A write-only stream without tell() or seek(): zipfile then writes each
    member's sizes in a data descriptor after its data, as streaming writers do."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, chunk):
        self.data += chunk
        return len(chunk)


def zip_bytes(members, streamed=False, level=None):
    """A zip archive of (name, content, method) members."""
    sink = Unseekable() if streamed else io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for name, content, method in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            archive.writestr(info, content, compresslevel=level)
    return bytes(sink.data) if streamed else sink.getvalue()


def set_encrypted_flag(archive, name):
    """Sets the encryption bit of `name` in its local and central headers."""
    data = bytearray(archive)
    encoded = name.encode()
    for signature, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at:start + name_at + len(encoded)] == encoded:
                data[start + flags_at] |= 0x01
            start += 1
    return bytes(data)


def write(name, content):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(content)


def regression_files(events):
    saved = saved_xml(events)
    files = {
        "edr-freeze.events.xml": saved,
        "edr-freeze.wevtutil.xml": wevtutil_xml(events).encode("utf-8"),
        "edr-freeze.ndjson": ndjson(events),
        "edr-freeze.array.json": json_array(events),
        "edr-freeze.winlogbeat.ndjson": winlogbeat_ndjson(events),
        "edr-freeze.csv": csv_bytes([flat(event) for event in events]),
        "edr-freeze.utf16le.xml": utf16le(wevtutil_xml(events)),
        "edr-freeze.events.xml.gz": gzip_bytes(saved, "edr-freeze.events.xml"),
    }
    members = [(name, content, zipfile.ZIP_DEFLATED) for name, content in files.items()]
    for folder, rule_id in SAMPLES:
        with open(os.path.join(DATA, "edr-freeze", folder, rule_id + ".evtx"), "rb") as fh:
            members.append((f"evtx/{rule_id}.evtx", fh.read(), zipfile.ZIP_DEFLATED))
    files["edr-freeze.zip"] = zip_bytes(members, streamed=True)
    return files


def otrf_zip():
    members = []
    for name in OTRF:
        with open(os.path.join(DATA, "otrf", name), "rb") as fh:
            members.append((name, fh.read(), zipfile.ZIP_DEFLATED))
    return zip_bytes(members, level=9)


def defect_files(events):
    first, second, third = events[0], events[1], events[2]
    lines = [xml_event(event) for event in (first, second)]
    damaged = xml_event(second, rendering=True).replace("</EventID>", "</Channel>", 1)
    mismatched = saved_document([xml_event(first, rendering=True), damaged, xml_event(third, rendering=True)])
    entity_data = [(k, text(v)) for k, v in first["Event"]["EventData"].items()]
    entity_data = [(k, v + "&nbsp;" if k == "TargetUser" else v) for k, v in entity_data]
    surrogate_data = [(k, text(v)) for k, v in first["Event"]["EventData"].items()]
    surrogate_data = [(k, v.replace("SYSTEM", "SYST\ud800EM") if k == "TargetUser" else v) for k, v in surrogate_data]
    surrogate_xml = xml_event(first, data_override=surrogate_data) + "\r\n"
    abuse = flat(events[5])
    abuse["CommandLine"] = abuse["CommandLine"] + ' "quoted"\r\nsecond line'
    event_ndjson = ndjson(events)
    bad_crc = bytearray(gzip_bytes(event_ndjson, "edr-freeze.ndjson"))
    bad_crc[-8] ^= 0xFF
    truncated_gzip = gzip_bytes(event_ndjson, "edr-freeze.ndjson")
    unsupported = zip_bytes([
        ("bzip2.ndjson", ndjson([first]), zipfile.ZIP_BZIP2),
        ("encrypted.ndjson", ndjson([first]), zipfile.ZIP_STORED),
        ("notes.txt", b"Exported from the lab machine.\n", zipfile.ZIP_DEFLATED),
        ("good.ndjson", ndjson([first]), zipfile.ZIP_DEFLATED),
    ])
    truncated_zip = zip_bytes([("edr-freeze.wevtutil.xml", wevtutil_xml(events).encode(), zipfile.ZIP_DEFLATED)])
    return {
        "defects/xml-mismatched-tag.xml": mismatched,
        "defects/xml-truncated.xml": "\r\n".join(lines).encode()[: len(lines[0]) + 2 + 600],
        "defects/xml-undefined-entity.xml": xml_event(first, data_override=entity_data).encode(),
        "defects/csv-field-count.csv": csv_bytes([flat(first), flat(second), flat(third)], {1: ["extra"]}),
        "defects/csv-quoted-newlines.csv": csv_bytes([abuse]),
        "defects/json-bad-line.ndjson": ndjson([first]) + b'{"Event": {"System": broken\n' + ndjson([second]),
        "defects/utf16-unpaired-surrogate.xml": b"\xff\xfe" + surrogate_xml.encode("utf-16-le", "surrogatepass"),
        "defects/utf16-odd-length.xml": utf16le(wevtutil_xml([first])) + b"\x00",
        "defects/gzip-bad-crc.ndjson.gz": bytes(bad_crc),
        "defects/gzip-truncated.ndjson.gz": truncated_gzip[: len(truncated_gzip) * 6 // 10],
        "defects/zip-unsupported-members.zip": set_encrypted_flag(unsupported, "encrypted.ndjson"),
        "defects/zip-truncated.zip": truncated_zip[: len(truncated_zip) // 2],
    }


def main():
    events = load_events()
    files = regression_files(events)
    files["otrf-captures.zip"] = otrf_zip()
    files.update(defect_files(events))
    for name, content in files.items():
        write(name, content)
        print(f"{len(content):>9}  {name}")


if __name__ == "__main__":
    main()
