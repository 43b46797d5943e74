"""The API's only parser: UTF-8 JSON, bounded in size and in nesting depth.

Python's ``json`` recurses once per nesting level, so a body of a few thousand ``[`` raises
``RecursionError`` deep in the parser; the depth is counted first, without recursion, and a
body nested deeper than any request of this API needs is refused (413) before it is parsed.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, UnsupportedMediaType
from rest_framework.parsers import BaseParser

# Deepest request body: journal -> lines -> line (3); 32 leaves ample room for growth.
MAX_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[^\[\]{}]+")
TOO_LARGE = "The request body is larger than {limit} bytes."
TOO_DEEP = f"The request body is nested deeper than {MAX_DEPTH} levels."
NOT_UTF8 = "JSON bodies must be UTF-8 (charset={charset} is not accepted)."
BAD_JSON = "The request body is not valid JSON: {error}"


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def max_body_bytes() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """How deep ``[`` and ``{`` nest outside strings; stops counting once past ``limit``."""
    brackets = _BRACKETS.sub("", _STRING.sub('""', text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        charset = _charset(media_type or "")
        if charset is not None and charset != "utf-8":
            raise UnsupportedMediaType(media_type or "", detail=NOT_UTF8.format(charset=charset))
        if stream is None:
            return {}
        limit = max_body_bytes()
        raw = stream.read(limit + 1) if limit else stream.read()
        if limit and len(raw) > limit:
            raise PayloadTooLarge(TOO_LARGE.format(limit=limit))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(BAD_JSON.format(error="not UTF-8")) from exc
        if nesting_depth(text) > MAX_DEPTH:
            raise PayloadTooLarge(TOO_DEEP)
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(BAD_JSON.format(error=exc)) from exc


def _charset(media_type: str) -> str | None:
    for param in media_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip('"').lower()
            try:
                return codecs.lookup(name).name
            except LookupError:
                return name or "(empty)"
    return None
