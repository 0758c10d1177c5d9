#!/usr/bin/env python3
"""Cuts the embedded Fashion-MNIST subset in data/fashion-mnist-subset/ from the full set.

Rule: walk each split's labels in file order and keep an example while its class has fewer
than k kept examples (k = 1,000 per class for train, 200 for test). The kept examples stay
in their original file order. So the subset is the first 1,000 train and first 200 test
images of each of the 10 classes: 10,000 train + 2,000 test, exactly class-balanced.

The four outputs are gzipped IDX files with the standard names, written with gzip mtime 0
and no file name in the gzip header, so every run produces byte-identical files.

Usage (python3, standard library only):
    apt-get install dataset-fashion-mnist        # the full 60k/10k set
    python3 data/make-fashion-mnist-subset.py [SOURCE_DIR [OUT_DIR]]
SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist (where Debian installs it),
OUT_DIR to fashion-mnist-subset next to this script.
"""
import gzip
import os
import struct
import sys

PER_CLASS = {"train": 1000, "t10k": 200}
CLASSES = 10
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def read_labels(path):
    data = read(path)
    magic, n = struct.unpack(">II", data[:8])
    if magic != LABELS_MAGIC or len(data) != 8 + n:
        sys.exit(f"{path}: not an IDX label file of {n} labels")
    return data[8:]


def read_images(path):
    data = read(path)
    magic, n, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != IMAGES_MAGIC or len(data) != 16 + n * rows * cols:
        sys.exit(f"{path}: not an IDX image file of {n} images of {rows}x{cols}")
    return rows, cols, data[16:]


def write_gz(path, payload):
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as g:
            g.write(payload)


def cut(split, source, out):
    k = PER_CLASS[split]
    labels = read_labels(os.path.join(source, f"{split}-labels-idx1-ubyte.gz"))
    rows, cols, pixels = read_images(os.path.join(source, f"{split}-images-idx3-ubyte.gz"))
    size = rows * cols
    if len(pixels) != len(labels) * size:
        sys.exit(f"{split}: {len(labels)} labels but {len(pixels) // size} images")
    kept, counts = [], [0] * CLASSES
    for i, label in enumerate(labels):
        if counts[label] < k:
            counts[label] += 1
            kept.append(i)
    if counts != [k] * CLASSES:
        sys.exit(f"{split}: found only {counts} examples per class, need {k} of each")
    n = len(kept)
    write_gz(os.path.join(out, f"{split}-labels-idx1-ubyte.gz"),
             struct.pack(">II", LABELS_MAGIC, n) + bytes(labels[i] for i in kept))
    write_gz(os.path.join(out, f"{split}-images-idx3-ubyte.gz"),
             struct.pack(">IIII", IMAGES_MAGIC, n, rows, cols)
             + b"".join(pixels[i * size:(i + 1) * size] for i in kept))
    print(f"{split}: {n} images of {rows}x{cols}, {k} per class")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "fashion-mnist-subset")
    os.makedirs(out, exist_ok=True)
    for split in ("train", "t10k"):
        cut(split, source, out)


if __name__ == "__main__":
    main()
