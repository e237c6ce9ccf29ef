"""``asr train`` with each utterance played at a speed drawn from {0.9, 1, 1.1, 1.2} instead of training's
{0.9, 1, 1.1}: the devlog's "faster training copies" side run, the leg's command with another --exp-dir:

    python experiments/faster_copies.py train --config conf/phones.yaml --train D/real/train.jsonl D/train2.jsonl \
      D/fsdd/train.jsonl --valid D/real/dev.jsonl D/real/dev_kathleen.jsonl --exp-dir exp/fast \
      train.init_from=INIT optim.lr=0.0003 train.max_steps=3600 train.threads=1
"""

import sys

import numpy as np

import asr.data
from asr.audio import SAMPLE_RATE, played_at_speed, resample
from asr.cli import main

SPEEDS = (0.9, 1.0, 1.1, 1.2)


def faster(self: asr.data.AsrDataset, audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:meth:`asr.data.AsrDataset._augment` with the speed drawn from SPEEDS."""
    speed = SPEEDS[int(rng.integers(0, len(SPEEDS)))]
    if speed != 1.0:
        audio = played_at_speed(audio, speed)
    if rng.random() < self.narrowband_prob:
        audio = resample(resample(audio, SAMPLE_RATE, SAMPLE_RATE // 2), SAMPLE_RATE // 2, SAMPLE_RATE)
    if self.channel.active:
        audio = asr.data.apply_channel(audio, rng, self.channel, self.rirs)
    return np.ascontiguousarray(audio, dtype=np.float32)


if __name__ == "__main__":
    asr.data.AsrDataset._augment = faster
    sys.exit(main(sys.argv[1:]))
