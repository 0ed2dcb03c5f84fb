"""Evidence pictures for the demo: a few text-free images (coloured shapes), each re-encoded once by the photos module.

Credit declarations and self-reported services both attach them, through the real photos module.
"""

import io
import random

from PIL import Image, ImageDraw

from ..credit import photos as photo_files


class Pictures:
    def __init__(self, rng: random.Random, written: list[str]):
        self.rng = rng
        self.written = written  # files saved, removed by the caller if the build fails
        self.pool: list = []

    def _pool(self) -> list:
        if not self.pool:
            for _ in range(6):
                image = Image.new("RGB", (480, 360), tuple(self.rng.randrange(90, 230) for _ in range(3)))
                draw = ImageDraw.Draw(image)
                for _shape in range(5):
                    x, y = self.rng.randrange(400), self.rng.randrange(280)
                    box = (x, y, x + self.rng.randrange(40, 200), y + self.rng.randrange(30, 150))
                    colour = tuple(self.rng.randrange(256) for _ in range(3))
                    (draw.ellipse if self.rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
                out = io.BytesIO()
                image.save(out, format="JPEG", quality=80)
                self.pool.append(photo_files.process(out.getvalue()))
        return self.pool

    def save_one(self):
        """A picture from the pool saved as a new file: (file name, the processed picture)."""
        picture = self.rng.choice(self._pool())
        name = photo_files.save(picture)
        self.written.append(name)
        return name, picture
