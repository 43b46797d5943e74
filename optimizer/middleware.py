"""Per-request capture (``AIBOS_OPTIMIZER_CAPTURE=1``): every query a request runs, checked for
N+1 when the response is ready, and appended to ``OPTIMIZER_CAPTURE_FILE`` (JSON lines) for
``manage.py optimizer_report --capture-file``. Development and CI only: it costs a stack walk
per query.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from optimizer.capture import capture_queries
from optimizer.nplusone import NPlusOneDetected, detect

logger = logging.getLogger("optimizer")


class QueryCaptureMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with capture_queries() as capture:
            response = self.get_response(request)
        findings = detect(capture.queries)
        for finding in findings:
            logger.warning("%s %s: %s", request.method, request.path, finding.message)
        path = settings.OPTIMIZER_CAPTURE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            for q in capture.queries:
                out.write(
                    json.dumps(
                        {
                            "sql": q.dollar_sql,
                            "ms": round(q.duration_ms, 3),
                            "offset": _offset(q.params, q.dollar_sql),
                            "location": str(q.location) if q.location else None,
                        }
                    )
                    + "\n"
                )
        if findings and settings.OPTIMIZER_NPLUSONE_RAISE:
            raise NPlusOneDetected("\n".join(f.message for f in findings))
        return response


def _offset(params: tuple[object, ...], sql: str) -> int | None:
    from optimizer.parsing import parse

    if " OFFSET " not in sql.upper():
        return None
    shape = parse(sql)
    if shape is None or not shape.has_offset:
        return None
    if shape.offset_literal is not None:
        return shape.offset_literal
    if shape.offset_param and len(params) >= shape.offset_param:
        value = params[shape.offset_param - 1]
        return value if isinstance(value, int) else None
    return None
