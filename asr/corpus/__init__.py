"""Corpus tooling, apart from the runtime package: synthesise speech (``synth``), download LibriSpeech
(``download``), write training manifests from corpora on disk (``prepare``) and normalise real transcripts
(``textnorm``). Nothing here is needed to transcribe."""
