"""Server-side chat history: sessions of OpenAI-format messages in DynamoDB (one item per message)."""

from gateway.history.config import HistoryConfig
from gateway.history.store import HistoryStore, SessionTurn, trim_history

__all__ = ["HistoryConfig", "HistoryStore", "SessionTurn", "trim_history"]
