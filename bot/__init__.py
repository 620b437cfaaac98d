"""Rasa-side code: Vietnamese NLU components, text normalisation, channels and the launcher."""
