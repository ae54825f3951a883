"""Entry point of the middleware function: the ASGI app the Lambda Web Adapter forwards to."""

from gateway.web.app import create_app

app = create_app()
