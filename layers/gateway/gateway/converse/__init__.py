"""Bedrock Converse interface: translation to and from OpenAI, and the event-stream codec."""
