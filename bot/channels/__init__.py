"""Input channels: how visitors' messages reach the Rasa server."""
