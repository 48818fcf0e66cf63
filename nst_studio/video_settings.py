"""The Video tab's form: its settings, defaults and ranges, declared once (``nst_core.schema``); the tab, the
``stylize_video`` tool and the tab's links all check them with ``VideoSettings.validate``."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from nst_core.options import MIN_STAGE_SIZE, PRESETS
from nst_core.schema import check, setting
from nst_core.video.sequence import TEMPORAL_WEIGHT

MAX_VIDEO_SIZE, MAX_SECONDS, MAX_FPS = 512, 10.0, 30.0
TEMPORAL_WEIGHTS = (0.0, 1e8, 1e9, 1e10, 1e11)  # the weights the tab offers: off, and powers of ten around the default


@dataclass(frozen=True)
class VideoSettings:
    """A clip's stylization as the app bounds it for 2 CPU cores: 2 s at 256 px and 10 frames per second."""

    preset: str = setting("Quick, Balanced or Best: frame 1 runs its full schedule, later frames half its final steps",
                          choices=tuple(PRESETS), default="Quick")
    size: int = setting("the long edge of the frames in pixels", range=(MIN_STAGE_SIZE, MAX_VIDEO_SIZE),
                        default=256)
    seconds: float = setting("how much of the clip to stylize, from its start", range=(0.1, MAX_SECONDS),
                             default=2.0)
    fps: float = setting("frames per second of the result", range=(1.0, MAX_FPS), label="frame rate", default=10.0)
    temporal_weight: float = setting("how strongly each frame keeps to the previous one carried along the motion "
                                     "(Ruder et al. 2016); 0: only the warm start", range=(0.0, 1e12),
                                     default=TEMPORAL_WEIGHT)

    def validate(self) -> "VideoSettings":
        """These settings checked and converted (``schema.check``), else ``InputError`` naming the first bad one."""
        return dataclasses.replace(self, **check(self))
