"""One chat turn, whatever the wire format: prompt → history → LiteLLM → history."""
