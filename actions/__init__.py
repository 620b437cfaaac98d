"""rasa_sdk custom actions: thin wrappers that ask the knowledge base and format replies."""
