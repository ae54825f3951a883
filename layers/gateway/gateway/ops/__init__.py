"""Operator tasks (the ``ops`` Lambda's console events and ``make ops``): one function per task over the
same core the routes use — the LiteLLM client, the chat history store — plus a small platform
interface for what only AWS has (Secrets Manager, ECS, Lambda), replaced by local equivalents locally.
"""
