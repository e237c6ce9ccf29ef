"""asr: BiLSTM/GRU-CTC speech recognition.

    import asr
    model = asr.load_model()          # the bundled default model, or asr.load_model("exp/best.pt")
    print(model.transcribe("clip.wav").text)
    model.transcribe("call.wav", decode=asr.DecodeOptions("beam", hotwords=(("grafana", 3.0),)))

Importing the package loads nothing heavy and changes no global state; submodules import on first use.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "load_model": "transcribe",
    "available_models": "bundled",
    "Recognizer": "transcribe",
    "Result": "results",
    "SegmentText": "results",
    "Word": "results",
    "DecodeOptions": "options",
    "TranscribeOptions": "options",
    "StreamOptions": "options",
    "ServerOptions": "options",
    "VadOptions": "options",
    "Event": "results",
    "AsrError": "errors",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'asr' has no attribute {name!r}")
