"""Long work for the engine: a document read as an audiobook, chapter by chapter, resumable (the `book`
command; the jobs API builds on the same parts)."""
