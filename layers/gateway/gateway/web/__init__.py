"""The ASGI application: thin routes over the pure core (served by uvicorn locally and in Lambda)."""
