"""Anthropic Messages on the Bedrock InvokeModel routes: request checks and the event-stream codec (pure)."""
