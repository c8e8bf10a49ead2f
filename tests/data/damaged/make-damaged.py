#!/usr/bin/env python3
"""Writes the damaged files in this folder from the fixtures in ../formats
and the regression EVTX files in ../edr-freeze. Python 3 standard library
only; the output is the same on every run. README.md describes each file.

usage: tests/data/damaged/make-damaged.py
"""
import csv
import io
import os
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
FORMATS = os.path.join(DATA, "formats")

EDR_FREEZE = "proc_access_win_werfaultsecure_msmpeng_access/387df17d-3b04-448f-8669-9e7fd5e5fd8c.evtx"
LSASS_DUMP = "proc_access_win_susp_dbgcore_dbghelp_load/9f5c1d59-33be-4e60-bcab-85d2f566effd.evtx"

FILE_HEADER = 4096
CHUNK = 65536
CHUNK_HEADER = 512
ZIP_TIME = (2025, 11, 27, 0, 0, 0)


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def replace_once(data, old, new):
    """Replaces the first `old` in `data`, which must contain it."""
    assert old in data, old
    return data.replace(old, new, 1)


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as handle:
        handle.write(data)


# EVTX ----------------------------------------------------------------------

def sample_chunk(path):
    """The only chunk of a regression EVTX file."""
    return bytearray(read(os.path.join(DATA, "edr-freeze", path))[FILE_HEADER:FILE_HEADER + CHUNK])


def seal_chunk(chunk):
    """Writes the record data CRC-32 and the chunk header CRC-32."""
    free_space = struct.unpack_from("<I", chunk, 48)[0]
    struct.pack_into("<I", chunk, 52, zlib.crc32(chunk[CHUNK_HEADER:free_space]))
    struct.pack_into("<I", chunk, 124, zlib.crc32(chunk[:120] + chunk[128:CHUNK_HEADER]))


def renumber(chunk, number):
    """Gives the chunk's one record the record number and id `number`."""
    struct.pack_into("<QQQQ", chunk, 8, number, number, number, number)
    struct.pack_into("<Q", chunk, CHUNK_HEADER + 8, number)
    seal_chunk(chunk)
    return chunk


def evtx(chunks, declared=None):
    """An EVTX file of `chunks`, whose header declares `declared` chunks."""
    header = bytearray(read(os.path.join(DATA, "edr-freeze", EDR_FREEZE))[:FILE_HEADER])
    count = len(chunks) if declared is None else declared
    struct.pack_into("<QQQ", header, 8, 0, count - 1, count + 1)
    struct.pack_into("<H", header, 42, count)
    struct.pack_into("<I", header, 124, zlib.crc32(header[:120]))
    return bytes(header) + b"".join(bytes(chunk) for chunk in chunks)


def two_chunks():
    """The EDR-Freeze record in chunk 1 and the LSASS-dump record in chunk 2."""
    return [renumber(sample_chunk(EDR_FREEZE), 1), renumber(sample_chunk(LSASS_DUMP), 2)]


def pseudo_random(size, seed):
    """Bytes from a linear congruential generator, the same on every run."""
    out = bytearray()
    state = seed
    for _ in range(size):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(state >> 16 & 0xFF)
    return bytes(out)


def make_evtx():
    whole = evtx(two_chunks())
    write("evtx-header-cut.evtx", whole[:2000])
    write("evtx-chunk-boundary-cut.evtx", whole[:FILE_HEADER + CHUNK])

    record_size = struct.unpack_from("<I", whole, FILE_HEADER + CHUNK + CHUNK_HEADER + 4)[0]
    write("evtx-record-cut.evtx", whole[:FILE_HEADER + CHUNK + CHUNK_HEADER + record_size // 2])

    chunks = two_chunks()
    chunks[0][124] ^= 0xFF
    write("evtx-bad-header-checksum.evtx", evtx(chunks))

    # Change the computer name in the record data from "swachchhanda" to
    # "swachchhandb" without updating the record data CRC-32.
    chunks = two_chunks()
    name = "swachchhanda".encode("utf-16-le")
    at = chunks[0].index(name, CHUNK_HEADER) + len(name) - 2
    chunks[0][at] = ord("b")
    write("evtx-bad-data-checksum.evtx", evtx(chunks))

    chunks = two_chunks()
    chunks[0] = bytearray(CHUNK)
    write("evtx-zeroed-chunk.evtx", evtx(chunks))

    chunks = two_chunks()
    chunks[0] = bytearray(pseudo_random(CHUNK, 7))
    write("evtx-garbage-chunk.evtx", evtx(chunks))

    # The record's size field becomes almost 2 GiB. The chunk is sealed
    # again, so that only the size is wrong.
    chunks = two_chunks()
    struct.pack_into("<I", chunks[0], CHUNK_HEADER + 4, 0x7FFFFFF0)
    seal_chunk(chunks[0])
    write("evtx-overlong-record.evtx", evtx(chunks))

    write("mixed-ndjson-after-evtx.evtx", evtx(two_chunks()[:1]) + ndjson_lines()[1])


# Text formats ---------------------------------------------------------------

def ndjson_lines():
    return read(os.path.join(FORMATS, "edr-freeze.ndjson")).splitlines(keepends=True)


def wevtutil_lines():
    return read(os.path.join(FORMATS, "edr-freeze.wevtutil.xml")).splitlines(keepends=True)


def make_xml():
    saved = read(os.path.join(FORMATS, "edr-freeze.events.xml"))
    third = saved.index(b"<Event ", saved.index(b"<Event ", saved.index(b"<Event ") + 1) + 1)
    cut = saved.index(b"<Data Name='ImageLoaded'", third) + len(b"<Data Name='Image")
    write("xml-cut-in-tag.xml", saved[:cut])

    lines = wevtutil_lines()[:3]
    lines[0] = replace_once(lines[0], b"NT AUTHORITY\\SYSTEM", b"NT AUTHORITY&#xZZ;SYSTEM")
    lines[1] = replace_once(lines[1], b"<Data Name='RuleName'>-", b"<Data Name='RuleName'>&#xD800;")
    lines[2] = replace_once(lines[2], b"<Data Name='RuleName'>-", b"<Data Name='RuleName'>AT&T")
    write("xml-bad-references.xml", b"".join(lines))

    lines = wevtutil_lines()[:3]
    json_line = ndjson_lines()[3]
    write("mixed-json-in-xml.xml", lines[0] + lines[1] + json_line + lines[2])


def make_json():
    lines = ndjson_lines()[:4]
    middle = len(lines[1]) // 2
    lines[1] = lines[1][:middle] + lines[1][middle + 1:]
    lines[3] = lines[3][:len(lines[3]) // 2]
    write("ndjson-bad-line-cut-end.ndjson", b"".join(lines))

    array = read(os.path.join(FORMATS, "edr-freeze.array.json"))
    starts = [index for index in range(len(array)) if array.startswith(b'\n  {\n    "Event"', index)]
    write("json-array-cut.json", array[:starts[3] + (starts[4] - starts[3]) // 2])

    lines = ndjson_lines()[:4]
    write("mixed-xml-in-ndjson.ndjson", lines[0] + lines[1] + wevtutil_lines()[2] + lines[3])


def make_csv():
    text = read(os.path.join(FORMATS, "edr-freeze.csv")).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, events = rows[0], rows[1:]

    # Semicolons, so that events 1 to 4 need no quotes: then the quote
    # opened in event 2 is closed nowhere.
    lines = [";".join(row) for row in [header] + events[:4]]
    assert not any(mark in line for line in lines for mark in ('"', "\r", "\n"))
    fields = events[1][:]
    at = header.index("SourceImage")
    fields[at] = '"' + fields[at]
    lines[2] = ";".join(fields)
    write("csv-unclosed-quote.csv", "\ufeff".encode() + "\r\n".join(lines).encode() + b"\r\n")

    rows = read(os.path.join(FORMATS, "edr-freeze.csv")).split(b"\r\n")
    header, events = rows[0], rows[1:7]
    counts = list(events[:5])
    counts[1] = counts[1] + b",extra"
    counts[3] = counts[3].rsplit(b",", 1)[0]
    write("csv-field-counts.csv", b"\r\n".join([header] + counts) + b"\r\n")


def make_utf16():
    lines = wevtutil_lines()[:2]
    text = b"".join(lines).decode("utf-8")
    data = bytearray("\ufeff".encode("utf-16-be") + text.encode("utf-16-be"))
    # A lone low surrogate in place of the "-" of the second event's RuleName.
    at = data.index("<Data Name='RuleName'>-".encode("utf-16-be"), len(lines[0]) * 2)
    at += len("<Data Name='RuleName'>".encode("utf-16-be"))
    data[at:at + 2] = b"\xdc\x00"
    write("utf16be-lone-surrogate-odd.xml", bytes(data) + b"\x00")

    text = wevtutil_lines()[0].decode("utf-8")
    data = "\ufeff".encode("utf-16-le") + text.encode("utf-16-le") + "\ud83d".encode("utf-16-le", "surrogatepass")
    write("utf16le-ends-in-high-surrogate.xml", data)


# Containers -----------------------------------------------------------------

def gzip_bytes(data):
    """A gzip member with no file name and a zero modification time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + deflated + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def make_gzip():
    ndjson = b"".join(ndjson_lines())
    member = gzip_bytes(ndjson)
    write("gzip-header-cut.ndjson.gz", member[:6])
    write("gzip-trailing-garbage.ndjson.gz", member + b"\x00\x00\x00\x00garbage after the member\n")

    damaged = bytearray(member)
    middle = 10 + (len(member) - 18) // 2
    damaged[middle:middle + 16] = pseudo_random(16, 11)
    write("gzip-corrupt-deflate.ndjson.gz", bytes(damaged))


def zip_archive(members):
    """A zip of `(name, data, method)` members, sizes in the local headers."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = method
            archive.writestr(info, data)
    return bytearray(buffer.getvalue())


def member_data_offset(archive, name):
    """Where the data of member `name` starts in `archive`."""
    at = 0
    while True:
        name_length, extra_length = struct.unpack_from("<HH", archive, at + 26)
        member = bytes(archive[at + 30:at + 30 + name_length]).decode()
        size = struct.unpack_from("<I", archive, at + 18)[0]
        start = at + 30 + name_length + extra_length
        if member == name:
            return start, size
        at = start + size


def make_zip():
    lines = ndjson_lines()
    members = [
        ("first.ndjson", lines[0], zipfile.ZIP_DEFLATED),
        ("damaged.ndjson", lines[1] + lines[2], zipfile.ZIP_DEFLATED),
        ("last.xml", b"".join(wevtutil_lines()[3:6]), zipfile.ZIP_DEFLATED),
    ]
    archive = zip_archive(members)
    start, size = member_data_offset(archive, "damaged.ndjson")
    archive[start + size // 2:start + size // 2 + 16] = pseudo_random(16, 13)
    write("zip-damaged-member.zip", bytes(archive))

    write("zip-header-cut.zip", bytes(archive[:20]))

    members = [("bad-crc.ndjson", lines[0], zipfile.ZIP_STORED), ("good.ndjson", lines[1], zipfile.ZIP_STORED)]
    archive = zip_archive(members)
    start, size = member_data_offset(archive, "bad-crc.ndjson")
    # The computer name "swachchhanda" becomes "swachchhandb" inside the
    # stored data, so the stored CRC-32 no longer matches.
    at = archive.index(b"swachchhanda", start, start + size)
    archive[at + len(b"swachchhand")] = ord("b")
    write("zip-bad-crc.zip", bytes(archive))


def main():
    make_evtx()
    make_xml()
    make_json()
    make_csv()
    make_utf16()
    make_gzip()
    make_zip()


if __name__ == "__main__":
    main()
