"""Renderings of views: SVG pictures and plain text."""
