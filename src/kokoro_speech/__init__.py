"""kokoro-speech: an OpenAI-compatible text-to-speech server for Kokoro-82M.

The pipeline: api → pipeline.engine (Engine.open) → text (normalize, split, phonemize) → model.session → audio.encode.
"""

__version__ = "0.1.0"
