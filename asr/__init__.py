"""asr: BiLSTM/GRU-CTC speech recognition.

    import asr
    model = asr.load_model()          # the bundled default model, or asr.load_model("exp/best.pt")
    print(model.transcribe("clip.wav").text)

Importing the package loads nothing heavy and changes no global state; submodules import on first use.
"""

__version__ = "0.1.0"
__all__ = ["load_model", "Recognizer", "Result", "__version__"]


def __getattr__(name: str):
    if name in ("load_model", "Recognizer", "Result"):
        from . import transcribe

        return getattr(transcribe, name)
    raise AttributeError(f"module 'asr' has no attribute {name!r}")
