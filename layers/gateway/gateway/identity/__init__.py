"""Who is calling: principals, LiteLLM key validation, JWT verification, the authorizer rules."""
