"""The commands users run, by audience: files (transcribe, evaluate), live (stream, serve), training (train,
export). Each module parses its commands next to the functions that run them; :mod:`asr.cli` assembles them with
the corpus tooling (:mod:`asr.corpus.cli`)."""
