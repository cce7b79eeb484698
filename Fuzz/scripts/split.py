#!/usr/bin/env python3
"""Cuts captured streams (capture.py) into small corpus files: the startup packets of each connection for
StartupPacketFuzz, runs of whole frontend/backend messages (at most ~2 KB) for the framing targets, each behind
the two seed bytes FramingCheck reads first. Used by make-corpus.sh only."""
import hashlib, os, struct, sys

capture, corpus = sys.argv[1], sys.argv[2]

def write(target, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)

def messages(data):
    offset = 0
    while offset + 5 <= len(data):
        length = struct.unpack(">i", data[offset + 1:offset + 5])[0]
        if length < 4 or offset + 1 + length > len(data):
            break
        yield data[offset:offset + 1 + length]
        offset += 1 + length

def runs(data, limit=2048):
    run = b""
    for message in messages(data):
        if run and len(run) + len(message) > limit:
            yield run
            run = b""
        run += message
    if run:
        yield run

for name in sorted(os.listdir(capture)):
    path = os.path.join(capture, name)
    data = open(path, "rb").read()
    if name.endswith(".client"):
        # Untyped startup packets first: SSLRequest (8 bytes) and the StartupMessage.
        offset, packets = 0, b""
        while offset + 8 <= len(data):
            length, code = struct.unpack(">ii", data[offset:offset + 8])
            if length < 8 or length > 10000:
                break
            packets += data[offset:offset + length]
            offset += length
            if code >> 16 == 3 or code == 80877102:
                break
        if packets:
            write("StartupPacketFuzz", b"\x00" + packets)
        for run in list(runs(data[offset:]))[:6]:
            write("FrontendFramingFuzz", b"\x00\x00" + run)
    elif name.endswith(".server"):
        # The first byte may be the 'N' answering SSLRequest.
        start = 1 if data[:1] == b"N" else 0
        for run in list(runs(data[start:]))[:6]:
            write("BackendFramingFuzz", b"\x00\x00" + run)
