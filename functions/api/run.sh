#!/bin/bash
# Lambda handler of the middleware function. The Lambda Web Adapter (layer, AWS_LAMBDA_EXEC_WRAPPER)
# starts this script, then forwards each invocation to the ASGI server as plain HTTP and streams the
# answer back (AWS_LWA_INVOKE_MODE=response_stream).
PATH=$PATH:$LAMBDA_TASK_ROOT/bin PYTHONPATH=$PYTHONPATH:/opt/python:$LAMBDA_RUNTIME_DIR \
  exec python -m uvicorn --app-dir "$LAMBDA_TASK_ROOT" --host 127.0.0.1 --port "${PORT:-8080}" \
  --no-access-log --timeout-keep-alive 75 main:app
