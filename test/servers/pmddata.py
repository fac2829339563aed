"""The five test corpora of the permessage-deflate cases (sections 12 and 13).

Autobahn|Testsuite ships five files (a JSON file, a 512x512 grey bitmap,
Goethe's Faust I as text, an HTML page and a PDF).  We do not copy them: each
is generated here, deterministically (a fixed seed), with a size of the same
order and the same character — ASCII-only JSON and HTML sent as text (messages are cut
at any byte offset, so a text corpus must be ASCII to stay valid UTF-8),
German-like UTF-8 prose sent as binary, a smooth noisy bitmap with a BMP
header, and a PDF-like file whose streams are already compressed (deflate
can gain nothing there, so a sender should fall back to stored blocks).

corpus(name) returns the bytes (built once, ~1 s for all five);
piece(name, offset, length) a slice that wraps around (as often as needed).
"""
import json
import math
import random
import struct
import zlib

# name -> (description, size, sent as binary); the order is Autobahn's 12.1-12.5
CORPORA = [
    ("json", "Large JSON data file", 194237, False),
    ("bitmap", "Picture, bitmap 512x512 grey (generated, in place of "
     "Autobahn's Lena)", 263222, True),
    ("prose", "Human readable text, German-like prose (generated, in place "
     "of Goethe's Faust I)", 222218, True),
    ("html", "Large HTML file", 83952, False),
    ("pdf", "A larger PDF (generated; its streams are compressed)", 1042328,
     True),
]
INFO = {name: (desc, size, binary) for name, desc, size, binary in CORPORA}

_cache = {}

_SYL = ["ge", "ver", "ein", "hei", "ten", "schaf", "lich", "ung", "keit",
        "wan", "del", "stern", "licht", "nacht", "berg", "tal", "feu", "er",
        "wis", "sen", "traum", "zeit", "welt", "geist", "herz", "himm", "el",
        "erd", "mor", "gen", "abend", "wald", "see", "kraft", "lie", "be"]
_WORDS = ["und", "der", "die", "das", "ich", "nicht", "ist", "mit", "zu",
          "ein", "so", "wie", "auf", "mir", "dich", "den", "wohl", "doch",
          "f\u00fcr", "\u00fcber", "sch\u00f6n", "gr\u00fc\u00dfen",
          "m\u00f6chte", "W\u00e4lder", "H\u00f6he", "St\u00e4rke",
          "Gr\u00e4ber", "s\u00fc\u00df", "wei\u00df", "Stra\u00dfe",
          "dr\u00e4ngt", "tr\u00e4umt", "Fr\u00fchling", "h\u00f6rt"]
_NAMES = ["Faust", "Mephistopheles", "Wagner", "Margarete", "Marthe",
          "Valentin", "Lieschen", "Chor", "Erdgeist", "Sch\u00fcler"]


def _fit(text, size, pad):
    """Cut or pad (with `pad` characters) to exactly `size` bytes."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) >= size:
        return data[:size]
    return data + (pad * (size - len(data)))[:size - len(data)]


def _json(size):
    rnd = random.Random(7692)
    recs = []
    total = 2
    i = 0
    while True:
        word = "".join(rnd.choice(_SYL) for _ in range(rnd.randint(2, 4)))
        rec = {
            "id": i,
            "guid": "%08x-%04x-%04x" % (rnd.getrandbits(32),
                                        rnd.getrandbits(16),
                                        rnd.getrandbits(16)),
            "name": word.capitalize() + " " + rnd.choice(_NAMES),
            "active": rnd.random() < 0.5,
            "balance": round(rnd.uniform(10, 9999), 2),
            "tags": [rnd.choice(_SYL) + rnd.choice(_SYL)
                     for _ in range(rnd.randint(1, 5))],
            "location": {"lat": round(rnd.uniform(-90, 90), 6),
                         "lon": round(rnd.uniform(-180, 180), 6)},
            "note": " ".join(rnd.choice(_WORDS)
                             for _ in range(rnd.randint(3, 12))),
        }
        # ensure_ascii: umlauts become \u escapes, the corpus stays ASCII
        s = json.dumps(rec, ensure_ascii=True, indent=1)
        if total + len(s) + 2 > size:
            break
        recs.append(s)
        total += len(s) + 2
        i += 1
    text = "[" + ",\n".join(recs) + "]"
    return _fit(text, size, b" ")


def _bitmap(size):
    w = h = 512
    rnd = random.Random(1951)
    header = b"BM" + struct.pack("<IHHI", size, 0, 0, 14 + 40 + 1024)
    dib = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 0, w * h, 2835, 2835,
                      256, 256)
    palette = b"".join(bytes((g, g, g, 0)) for g in range(256))
    # a smooth "scene": a few blobs and waves, plus sensor-like noise
    blobs = [(rnd.uniform(0, w), rnd.uniform(0, h), rnd.uniform(40, 160),
              rnd.uniform(-90, 90)) for _ in range(6)]
    rows = []
    for y in range(h):
        row = bytearray(w)
        for x in range(w):
            v = 110 + 40 * math.sin(x / 37.0) * math.cos(y / 53.0)
            for bx, by, r, a in blobs:
                d2 = ((x - bx) ** 2 + (y - by) ** 2) / (r * r)
                if d2 < 4:
                    v += a * math.exp(-d2)
            v += rnd.gauss(0, 6)
            row[x] = 0 if v < 0 else 255 if v > 255 else int(v)
        rows.append(bytes(row))
    data = header + dib + palette + b"".join(rows)
    assert len(data) == size
    return data


def _prose(size):
    rnd = random.Random(1808)
    out, n = [], 0
    while n < size:
        if rnd.random() < 0.08:
            line = "\n" + rnd.choice(_NAMES).upper() + ":\n"
        else:
            words = []
            for _ in range(rnd.randint(4, 9)):
                if rnd.random() < 0.3:
                    words.append("".join(rnd.choice(_SYL) for _ in
                                         range(rnd.randint(1, 3))))
                else:
                    words.append(rnd.choice(_WORDS))
            words[0] = words[0].capitalize()
            line = " ".join(words) + rnd.choice([",", ".", "!", ";", ""]) + \
                "\n"
        out.append(line)
        n += len(line.encode("utf-8"))
    return _fit("".join(out), size, b"\n")


def _html(size):
    rnd = random.Random(2616)
    parts = ["<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta "
             "charset=\"us-ascii\">\n<title>Testseite</title>\n<style>\n"
             "td { padding: 2px 6px; } .even { background: #eee; }\n"
             "</style>\n</head>\n<body>\n<h1>Tabelle</h1>\n<table>\n"]
    n = len(parts[0])
    i = 0
    end = "</table>\n</body>\n</html>\n"
    while True:
        word = "".join(rnd.choice(_SYL) for _ in range(rnd.randint(2, 4)))
        row = ("<tr class=\"%s\"><td>%d</td><td><a href=\"/item/%d\">%s</a>"
               "</td><td>%s</td><td>%.2f&nbsp;&euro;</td></tr>\n" %
               ("even" if i % 2 else "odd", i, rnd.randint(1, 99999),
                word.capitalize(), rnd.choice(_NAMES).replace(
                    "\u00fc", "&uuml;"), rnd.uniform(1, 500)))
        if n + len(row) + len(end) > size:
            break
        parts.append(row)
        n += len(row)
        i += 1
    parts.append(end)
    return _fit("".join(parts), size, b" ")


def _pdf(size):
    rnd = random.Random(1979)
    out = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    n = len(out[0])
    obj = 1
    while n < size:
        if obj % 4 == 1:
            body = ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                    "/Contents %d 0 R >>" % (obj + 1)).encode()
        else:
            # a page's text, deflated as a real PDF would carry it
            text = "\n".join(
                "BT /F1 %d Tf %d %d Td (%s) Tj ET" % (
                    rnd.randint(8, 14), rnd.randint(40, 560),
                    rnd.randint(40, 760),
                    " ".join(rnd.choice(_SYL) for _ in range(8)))
                for _ in range(rnd.randint(80, 200))).encode()
            noise = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(
                500, 3000)))
            stream = zlib.compress(text + noise, 9)
            body = (b"<< /Length %d /Filter /FlateDecode >>\nstream\n" %
                    len(stream)) + stream + b"\nendstream"
        chunk = b"%d 0 obj\n" % obj + body + b"\nendobj\n"
        out.append(chunk)
        n += len(chunk)
        obj += 1
    return _fit(b"".join(out), size, b"\n")


_MAKERS = {"json": _json, "bitmap": _bitmap, "prose": _prose,
           "html": _html, "pdf": _pdf}


def corpus(name):
    """The bytes of corpus `name` (see CORPORA)."""
    data = _cache.get(name)
    if data is None:
        data = _MAKERS[name](INFO[name][1])
        assert len(data) == INFO[name][1]
        if not INFO[name][2]:
            data.decode("ascii")        # text corpora: any slice is UTF-8
        _cache[name] = data
    return data


def piece(name, offset, length):
    """`length` bytes of corpus `name` from `offset` on, wrapping around
    (Autobahn's way of cutting messages from its files).  Returns (bytes,
    the next offset)."""
    data = corpus(name)
    n = len(data)
    offset %= n
    out = []
    need = length
    while need > 0:
        take = min(need, n - offset)
        out.append(data[offset:offset + take])
        need -= take
        offset = (offset + take) % n
    return b"".join(out), offset


if __name__ == "__main__":
    import time
    for name, desc, size, binary in CORPORA:
        t = time.time()
        d = corpus(name)
        c = zlib.compressobj(-1, zlib.DEFLATED, -15)
        z = c.compress(d) + c.flush()
        print("%-7s %8d bytes, deflate %5.1f%%, %.2f s  %s" % (
            name, len(d), 100.0 * len(z) / len(d), time.time() - t, desc))
