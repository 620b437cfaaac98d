"""The Đà Nẵng knowledge base: the single source of truth for every fact the assistant says."""
