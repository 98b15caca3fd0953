"""kokoro-speech: an OpenAI-compatible text-to-speech server for Kokoro-82M.

The pipeline: api → engine.synthesize → text (normalize, split, phonemize) → engine.model → audio.encode.
"""

__version__ = "0.1.0"
