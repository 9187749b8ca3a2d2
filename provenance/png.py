"""Provenance in PNG text chunks: write them with the image, read them back from any PNG.

Chunks written: `atelier:provenance` (iTXt, the whole record as JSON), the standard keywords
Software, Description (the label), Source (the model) and Comment, and an XMP packet that marks the
image as IPTC digital source type "trainedAlgorithmicMedia" (what other tools read as "made by AI").
"""

from __future__ import annotations

import io
import json
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, PngImagePlugin

from provenance import LABEL, SOFTWARE

KEY = "atelier:provenance"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

_XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 Iptc4xmpExt:DigitalSourceType="{source}" xmp:CreatorTool="{software}">
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{label}</rdf:li></rdf:Alt></dc:description>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def png_info(record: dict[str, Any]) -> PngImagePlugin.PngInfo:
    """The text chunks for a provenance record."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt(KEY, json.dumps(record, sort_keys=True, default=str))
    info.add_text("Software", SOFTWARE)
    info.add_text("Description", LABEL)
    info.add_itxt("Source", str(record.get("model", "")))
    info.add_text("Comment", f"{LABEL}; job {record.get('job_id', '?')}; seed {record.get('seed')}")
    xmp = _XMP.format(source=DIGITAL_SOURCE_TYPE, software=escape(SOFTWARE), label=escape(LABEL))
    info.add_itxt("XML:com.adobe.xmp", xmp)
    return info


def encode_png(image: Image.Image, record: dict[str, Any]) -> bytes:
    """The image as PNG bytes carrying the record."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=png_info(record))
    return buffer.getvalue()


def read_png_provenance(data: bytes) -> dict[str, Any] | None:
    """The record stored in a PNG's chunks, or None (not a PNG, no record, or unreadable)."""
    if not data.startswith(PNG_MAGIC):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # text chunks after the image data are only read with the pixels
            text = getattr(image, "text", {}) or {}
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    raw = text.get(KEY)
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
