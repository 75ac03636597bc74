#!/usr/bin/env python3
"""Checks a model card that `mlc card` wrote, for tests/cli/test_card.sh.

Usage:
  check_card.py card DIR --classes K --sha256 HEX [--hostile TEXT]... [--regression]
  check_card.py png FILE

card: DIR/card.html and DIR/card.md exist; the HTML loads nothing (no script, link, image or URL
but the SVG namespace); every <svg>...</svg> in it parses as XML on its own; the HTML has every section; the confusion matrix has K*K cells (0 for a regression, which
has the residual quantiles instead); both files name the data file's sha256; each TEXT (hostile
catalogue text such as a class name '<b>&"x') never appears raw in the HTML or in the Markdown
outside its fenced code blocks (literal there), and appears HTML-escaped in the HTML.
png: a screenshot of the card is not blank: more than 2% of its pixels are not white, it has many
distinct colours, and the blue of the heat map and the lines in quantity (the SVG was drawn).

Prints what failed and exits 1, or exits 0.
"""

import argparse
import html
import pathlib
import re
import sys
import xml.etree.ElementTree as ElementTree

SECTIONS = ["summary", "learning-curves", "evaluation", "evaluations", "lineage", "config", "variants", "history"]
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"


def fail(message):
    print(f"check_card.py: {message}", file=sys.stderr)
    sys.exit(1)


def check_card(args):
    directory = pathlib.Path(args.dir)
    page = (directory / "card.html").read_text(encoding="utf-8")
    markdown = (directory / "card.md").read_text(encoding="utf-8")

    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    if len(svgs) < 2:
        fail(f"expected the learning curves and more as <svg>, found {len(svgs)}")
    cells = 0
    for number, svg in enumerate(svgs):
        try:
            root = ElementTree.fromstring(svg)
        except ElementTree.ParseError as error:
            fail(f"<svg> number {number} is not valid XML: {error}")
        if root.tag != SVG_NAMESPACE + "svg":
            fail(f"<svg> number {number} has no SVG namespace: {root.tag}")
        cells += sum(1 for rect in root.iter(SVG_NAMESPACE + "rect") if rect.get("class") == "cell")

    # Self-contained: nothing to fetch or run; the only URL is the SVG namespace, which is a name.
    # (Catalogue text is escaped, so a raw '<' is always mlc's own markup.)
    style = "".join(re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL))
    for needle in ["<script", "<link", "<img", "<iframe", "<object", "<embed"]:
        if needle in page.lower():
            fail(f"card.html is not self-contained: it holds {needle!r}")
    if re.search(r"<[a-z][^>]*\s(src|href)=\"(?!#)", page, flags=re.IGNORECASE):
        fail("card.html has an element that loads or links outside the page")
    if "url(" in style or "@import" in style:
        fail("card.html's style fetches something")
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page)) - {"http://www.w3.org/2000/svg"}
    if urls:
        fail(f"card.html refers to {sorted(urls)}")
    for section in SECTIONS:
        if f'<section id="{section}">' not in page:
            fail(f"no section '{section}' in card.html")
    for heading in ["## Summary", "## Learning curves", "## Variants", "## History"]:
        if heading not in markdown:
            fail(f"no '{heading}' in card.md")
    if "No variants are recorded for this version." not in page:
        fail("the Variants section does not say that none are recorded")

    expected_cells = 0 if args.regression else args.classes * args.classes
    if cells != expected_cells:
        fail(f"the confusion matrix has {cells} cells, expected {expected_cells}")
    if args.regression and ("residual_p05" not in page or "residual\\_p95" not in markdown):
        fail("a regression card shows no residual quantiles")
    for name, text in [("card.html", page), ("card.md", markdown)]:
        if args.sha256 not in text:
            fail(f"{name} does not hold the data file's sha256 {args.sha256}")
    # Inside a fenced code block (the config) Markdown text is literal: raw is right there.
    prose = re.sub(r"^(`{3,})\n.*?^\1\n", "", markdown, flags=re.DOTALL | re.MULTILINE)
    for hostile in args.hostile:
        for name, text in [("card.html", page), ("card.md outside code blocks", prose)]:
            if hostile in text:
                fail(f"{name} holds {hostile!r} raw")
        if html.escape(hostile, quote=True).replace("&#x27;", "&#39;") not in page:
            fail(f"card.html does not show {hostile!r} escaped")


def check_png(args):
    from PIL import Image

    image = Image.open(args.file).convert("RGB")
    pixels = list(image.getdata())
    share = sum(1 for pixel in pixels if min(pixel) < 240) / len(pixels)
    colours = len(set(pixels))
    # Text alone gives a few % of non-white pixels; what only the SVG gives is blue in quantity:
    # the heat map's cells and the lines. The page's links alone are ~3,000 such pixels at
    # 1200x2400, the card of a 3-class model with its charts ~14,000.
    blue = sum(1 for red, green, b in pixels if b > 120 and b > red + 60)
    if share < 0.02 or colours < 50 or blue < 6000:
        fail(f"{args.file}: looks blank: {share:.1%} non-white pixels, {colours} colours, {blue} blue pixels")
    print(f"{args.file}: {image.size[0]}x{image.size[1]}, {share:.1%} non-white pixels, {colours} colours, "
          f"{blue} blue pixels")


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    card = commands.add_parser("card")
    card.add_argument("dir")
    card.add_argument("--classes", type=int, default=0)
    card.add_argument("--sha256", required=True)
    card.add_argument("--hostile", action="append", default=[])
    card.add_argument("--regression", action="store_true")
    png = commands.add_parser("png")
    png.add_argument("file")
    args = parser.parse_args()
    check_card(args) if args.command == "card" else check_png(args)


if __name__ == "__main__":
    main()
