"""One structured JSON logger for the whole middleware (Powertools).

Log lines carry a request id passed as ``extra``; never pass keys, tokens or request bodies.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

logger = Logger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "genai-gateway"),
    level=os.environ.get("LOG_LEVEL", "INFO"),
)
