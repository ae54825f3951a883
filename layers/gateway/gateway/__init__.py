"""GenAI Gateway middleware: OpenAI and Bedrock Converse front door to LiteLLM.

The package is shipped as a Lambda layer (``/opt/python/gateway``) and served locally by
``make local``; the same code runs in both places.
"""
