"""Rasa NLU component that tags every message with the visitor's language.

It adds ``{"entity": "language", "value": "vi" | "en", "start": 0, "end": 0,
"extractor": "LanguageDetector"}`` to the message's entities, so a ``language`` slot with a
``from_entity`` mapping follows the visitor's language on every turn.

Why ``start: 0, end: 0``: the entity describes the whole message, not a span of it, but
Rasa's evaluation code indexes entity offsets unconditionally -- ``rasa test nlu`` computes
``range(entity["start"], entity["end"])`` for every predicted entity while aligning
predictions with tokens (``rasa.nlu.test.determine_intersection``), and ``rasa test core``
sorts predicted entities by ``x["start"]``. Without the keys both raise ``KeyError``. An
empty span at 0 overlaps no token, so the evaluation sees no entity on any token (it lists
LanguageDetector as an extractor with no correct predictions; ignore that section) and
entity-span consumers never highlight any text. (Entities from button payloads such as
``/greet{"language": "en"}`` are not span-free either: Rasa gives them the span of the JSON.)
Caveat: ``rasa test`` on test stories written with ``user:`` text compares the predicted
entities with the annotated ones, and a span-free entity cannot be annotated there, so every
such turn counts as an entity mismatch; evaluate stories with ``intent:`` steps or drop the
``language`` entity from the comparison.

Pipeline position: after the entity extractors. Place and event names they found are left
out of the detection (a name is in the language of the place, not of the visitor), and
DIETClassifier, which sets the entity list to ``[]`` when it has no model or the message
no features, cannot drop this entity.

Domain: declare the entity with ``influence_conversation: false``. Otherwise every user
turn's dialogue state carries ``entities: [language]`` at prediction time although no
story or rule contains it, so MemoizationPolicy never matches and rules that list entities
stop matching.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.language import detect_language

LANGUAGE_ENTITY = "language"
# Names are in whatever language the place has: "how do I get to Chùa Linh Ứng" is English.
_NAME_ENTITIES = {"place", "event"}


def _without_names(text: str, entities: list[dict[str, Any]]) -> str:
    """The text with the spans of place and event names (found by the extractors that run
    before this component) blanked out."""
    chars = list(text)
    for entity in entities:
        if entity.get(ENTITY_ATTRIBUTE_TYPE) in _NAME_ENTITIES:
            start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(chars):
                chars[start:end] = " " * (end - start)
    return "".join(chars)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Adds a ``language`` entity ("vi" or "en") to every message with text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        """Creates the component."""
        self.component_config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Appends the language entity to each message that has text."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            entity = {
                ENTITY_ATTRIBUTE_TYPE: LANGUAGE_ENTITY,
                ENTITY_ATTRIBUTE_VALUE: detect_language(_without_names(text, message.get(ENTITIES, []))),
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: 0,
            }
            # Re-processing a message replaces our own entity instead of adding a second.
            existing = [e for e in message.get(ENTITIES, []) if e.get(EXTRACTOR) != self.name]
            message.set(
                ENTITIES,
                existing + self.add_extractor_name([entity]),
                add_to_output=True,
            )
        return messages
