"""Bedrock Managed Prompts: a prompt ARN as the model, filled from ``promptVariables``.

``arn`` parses, ``resolver`` fetches (GetPrompt, cached), ``render`` fills and translates, ``apply``
merges into the OpenAI chat body.
"""

from gateway.prompts.apply import apply_prompt
from gateway.prompts.arn import PromptArn, parse_prompt_arn
from gateway.prompts.render import ResolvedPrompt, render_prompt
from gateway.prompts.resolver import PromptResolver

__all__ = ["PromptArn", "PromptResolver", "ResolvedPrompt", "apply_prompt", "parse_prompt_arn", "render_prompt"]
