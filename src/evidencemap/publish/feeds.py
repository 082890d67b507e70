"""Atom feeds (RFC 4287) of a living map's changes: every change, or those affecting one study list.

A feed has the elements RFC 4287 requires (``id``, ``title``, ``updated``, an ``author``, a ``link`` to itself) and
each entry its ``id`` (the change's IRI), ``title``, ``updated``, ``link`` (the change in the API) and a summary
(the message, who made it, what it touched). Written with ElementTree, so the XML is well formed whatever the
messages hold.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    updated: str
    link: str
    summary: str
    author: str


def atom_feed(feed_id: str, title: str, self_url: str, alternate_url: str, entries: Sequence[FeedEntry],
              author: str = "evidencemap") -> bytes:
    """The feed as UTF-8 XML: newest entry first; ``updated`` is the newest entry's time (the epoch when empty)."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
        if text is not None:
            element.text = text
        return element

    ordered = sorted(entries, key=lambda e: e.updated, reverse=True)
    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", ordered[0].updated if ordered else EPOCH)
    sub(sub(feed, "author"), "name", author)
    sub(feed, "link", rel="self", type=ATOM_TYPE, href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    for entry in ordered:
        item = sub(feed, "entry")
        sub(item, "id", entry.id)
        sub(item, "title", entry.title)
        sub(item, "updated", entry.updated)
        sub(sub(item, "author"), "name", entry.author)
        sub(item, "link", rel="alternate", href=entry.link)
        sub(item, "summary", entry.summary)
    xml: bytes = ET.tostring(feed, encoding="utf-8")
    return b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + xml
