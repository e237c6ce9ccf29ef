"""Transcription: ``load_model()`` → :class:`Recognizer`, whose ``transcribe(audio)`` returns a :class:`Result`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .audio import SAMPLE_RATE, load_audio
from .checkpoint import CheckpointError, load_checkpoint_model
from .decode import DecodeOptions, make_decoder

DEFAULT_MODEL = Path(__file__).parent / "assets" / "default.pt"  # bundled model, when installed


@dataclass(frozen=True)
class Result:
    text: str
    duration: float  # seconds of audio


def default_model_path() -> Path:
    if not DEFAULT_MODEL.is_file():
        raise CheckpointError(f"{DEFAULT_MODEL}: no bundled default model; pass --model CKPT")
    return DEFAULT_MODEL


class Recognizer:
    """A loaded model with its tokenizer and a decoder."""

    def __init__(self, path: str | Path | None = None, device: str = "cpu", opts: DecodeOptions = DecodeOptions()):
        self.path = Path(path) if path is not None else default_model_path()
        self.device = torch.device(device)
        self.model, self.tokenizer, self.config = load_checkpoint_model(self.path, self.device)
        self.opts = opts
        self.decoder = make_decoder(self.tokenizer, opts)

    @torch.no_grad()
    def transcribe(self, audio: str | Path | np.ndarray) -> Result:
        """Transcribe a file, or a (N,) float32 array at 16 kHz."""
        wav = load_audio(audio) if isinstance(audio, (str, Path)) else np.asarray(audio, dtype=np.float32)
        x = torch.from_numpy(wav).to(self.device).unsqueeze(0)
        log_probs, lens = self.model(x, torch.tensor([x.shape[1]], device=self.device))
        hyp = self.decoder(log_probs.cpu(), lens.cpu())[0]
        return Result(hyp.text, len(wav) / SAMPLE_RATE)


def load_model(path: str | Path | None = None, device: str = "cpu", opts: DecodeOptions = DecodeOptions()) -> Recognizer:
    """Load a checkpoint (the bundled default model when ``path`` is None)."""
    return Recognizer(path, device, opts)
