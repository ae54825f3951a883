"""CDK app of the GenAI Gateway: one stack, one construct per concern.

``settings`` parses and validates ``.env``; ``stack.GatewayStack`` composes ``network``, ``secrets``,
``data`` (chat history, log bucket), ``database``, ``cache``, ``litellm_service``, ``functions`` (with the
layer from ``layer_build``), ``api`` and ``observability``.
"""
