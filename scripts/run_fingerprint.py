#!/usr/bin/env python3
"""Prints one line per file of a run folder: the file's name and a SHA-256 of what it means,
leaving out what measures time or names the machine, the build or the folder (seconds, commit,
loaded libraries, the device line, the output folder). Two runs of the same config on the same
machine print the same lines; a change that moves any number changes a line.
   run_fingerprint.py RUN_FOLDER PREFIX"""
import hashlib
import json
import os
import struct
import sys

VOLATILE = {"seconds", "epoch_seconds", "evaluation_seconds", "images_per_second", "commit",
            "loaded_libraries", "device", "out"}


def stable(value):
    """The JSON value without the volatile keys, at any depth (a config nested as text too)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    if isinstance(value, str) and value.startswith("{"):
        try:
            return stable(json.loads(value))
        except ValueError:
            return value
    return value


def digest_of(path):
    name = os.path.basename(path)
    data = open(path, "rb").read()
    if name.endswith(".safetensors"):
        header_size = struct.unpack("<Q", data[:8])[0]
        header = stable(json.loads(data[8:8 + header_size]))
        text = json.dumps(header, sort_keys=True).encode() + data[8 + header_size:]
    elif name.endswith(".jsonl"):
        text = "\n".join(json.dumps(stable(json.loads(line)), sort_keys=True)
                         for line in data.decode().splitlines() if line.strip()).encode()
    elif name.endswith(".json"):
        text = json.dumps(stable(json.loads(data)), sort_keys=True).encode()
    else:
        text = data
    return hashlib.sha256(text).hexdigest()


def main():
    folder, prefix = sys.argv[1], sys.argv[2]
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            print(prefix, name, digest_of(path))


if __name__ == "__main__":
    main()
