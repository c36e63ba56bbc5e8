"""Ingestion: bytes or strings in, a clean :class:`~reportedly.model.Article` out.

The extraction core is :func:`make_article`; readers for files, stdin and strings sit around it
(as trafilatura does), so every interface validates input the same way.
"""

from reportedly.ingest.readers import (
    DEFAULT_MAX_BYTES,
    decode_bytes,
    make_article,
    paragraph_spans,
    read_path,
    read_stdin,
    read_string,
)

__all__ = ["DEFAULT_MAX_BYTES", "decode_bytes", "make_article", "paragraph_spans", "read_path", "read_stdin", "read_string"]
