#!/usr/bin/python3
"""Writes the image files tests/cli/test_predict_input.sh scores, without PIL (not in Debian's
base Python): PNG with zlib, JPEG with a baseline encoder of a few lines, IDX, and an Open
Inference Protocol infer request.

usage: image_files.py IMAGES.idx[.gz] COUNT OUTDIR

Takes the first COUNT images of IMAGES (28x28, Fashion-MNIST's test file) and writes to OUTDIR:
  png/NNN.png          each image as an 8-bit grayscale PNG
  rgb.png              image 0 as an RGB PNG with r = g = b (stb's grayscale of it is exact)
  blocky.png, blocky.jpg  one image constant on each 8x8 block, as PNG and as a JPEG whose
                       quantization table is all ones: a block of one value has only a DC
                       coefficient, which round-trips exactly, so both decode to the same pixels
  small.png            a 32x32 image (a size the model does not take)
  images-idx3-ubyte    the COUNT images as IDX (and blocky-idx3-ubyte: the blocky one)
  request.json         an infer request holding the COUNT images, FP32, flat data
"""

import gzip
import json
import os
import struct
import sys
import zlib


def png(path, width, height, rows, color=False):
    """rows: one bytes object per row, gray (1 byte a pixel) or RGB (3)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if color else 0, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    with open(path, "wb") as stream:
        stream.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                     chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.bits = 0
        self.count = 0

    def write(self, value, length):
        for shift in range(length - 1, -1, -1):
            self.bits = (self.bits << 1) | ((value >> shift) & 1)
            self.count += 1
            if self.count == 8:
                self.out.append(self.bits)
                if self.bits == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.bits = self.count = 0

    def flush(self):
        while self.count:
            self.write(1, 1)
        return bytes(self.out)


def jpeg_of_blocks(path, width, height, blocks):
    """A baseline grayscale JPEG whose 8x8 block (by, bx) is the constant blocks[by][bx]. DC
    categories 0..11 have 4-bit codes; the one AC symbol, end of block, has the code "0"."""
    def segment(marker, data):
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data
    quantization = segment(0xDB, b"\x00" + b"\x01" * 64)
    frame = segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    dc_counts = bytes([0, 0, 0, 12] + [0] * 12)
    dc_table = segment(0xC4, b"\x00" + dc_counts + bytes(range(12)))
    ac_table = segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    scan = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    bits = BitWriter()
    previous = 0
    for row in blocks:
        for value in row:
            dc = 8 * (value - 128)  # the DCT of a constant block: (sum of (v - 128)) / 8
            diff = dc - previous
            previous = dc
            category = abs(diff).bit_length()
            bits.write(category, 4)
            if category:
                bits.write(diff if diff > 0 else diff + (1 << category) - 1, category)
            bits.write(0, 1)  # end of block
    with open(path, "wb") as stream:
        stream.write(b"\xff\xd8" + quantization + frame + dc_table + ac_table + scan +
                     bits.flush() + b"\xff\xd9")


def idx(path, images, height, width):
    with open(path, "wb") as stream:
        stream.write(struct.pack(">BBBBIII", 0, 0, 8, 3, len(images), height, width))
        for image in images:
            stream.write(bytes(image))


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[4], file=sys.stderr)
        return 2
    source, count, out = argv[1], int(argv[2]), argv[3]
    opener = gzip.open if source.endswith(".gz") else open
    with opener(source, "rb") as stream:
        data = stream.read()
    _, _, height, width = struct.unpack(">IIII", data[:16])
    size = height * width
    images = [list(data[16 + i * size:16 + (i + 1) * size]) for i in range(count)]
    os.makedirs(os.path.join(out, "png"), exist_ok=True)
    for i, image in enumerate(images):
        rows = [bytes(image[y * width:(y + 1) * width]) for y in range(height)]
        png(os.path.join(out, "png", f"{i:03d}.png"), width, height, rows)
    rgb_rows = [bytes(v for v in image for _ in range(3))
                for image in [images[0][y * width:(y + 1) * width] for y in range(height)]]
    png(os.path.join(out, "rgb.png"), width, height, rgb_rows, color=True)

    block_rows, block_cols = (height + 7) // 8, (width + 7) // 8
    blocks = [[(37 * by + 71 * bx + 20) % 256 for bx in range(block_cols)] for by in range(block_rows)]
    blocky = [blocks[y // 8][x // 8] for y in range(height) for x in range(width)]
    png(os.path.join(out, "blocky.png"), width, height,
        [bytes(blocky[y * width:(y + 1) * width]) for y in range(height)])
    jpeg_of_blocks(os.path.join(out, "blocky.jpg"), width, height, blocks)
    idx(os.path.join(out, "blocky-idx3-ubyte"), [blocky], height, width)

    png(os.path.join(out, "small.png"), 32, 32, [bytes(32)] * 32)
    idx(os.path.join(out, "images-idx3-ubyte"), images, height, width)
    request = {"id": "scoring-test", "inputs": [{
        "name": "input", "shape": [count, height, width], "datatype": "FP32",
        "data": [float(v) for image in images for v in image]}]}
    with open(os.path.join(out, "request.json"), "w", encoding="utf-8") as stream:
        json.dump(request, stream)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
