"""Augmentation presets. Training imitates a farmer's phone photo, not only lab flips: framing and
distance (random resized crop, perspective), a tilted hand (rotation), sun and shade (brightness,
contrast, hue, shadows), shake and focus (motion/defocus blur), cheap sensors (noise) and messaging
apps (JPEG recompression). Evaluation uses the runtime's own `model.preprocess`, nothing else."""
from __future__ import annotations

import albumentations as A
import cv2
import numpy as np

from model.preprocess import SQUASH, PreprocessConfig, geometry, normalize, preprocess


def phone_photo_augment(size: int) -> A.Compose:
    """Applied to the photo after the deployment geometry (so a crop at scale 1 is what the runtime sees)."""
    return A.Compose([
        A.RandomResizedCrop(size=(size, size), scale=(0.3, 1.0), ratio=(0.75, 1.333),
                            interpolation=cv2.INTER_AREA),
        A.HorizontalFlip(),
        A.VerticalFlip(p=0.2),
        A.Affine(rotate=(-35, 35), scale=(0.9, 1.1), border_mode=cv2.BORDER_REFLECT_101, p=0.6),
        A.Perspective(scale=(0.02, 0.08), p=0.3),
        A.ColorJitter(brightness=0.35, contrast=0.35, saturation=0.3, hue=0.04, p=0.8),
        A.RandomShadow(shadow_roi=(0, 0, 1, 1), num_shadows_limit=(1, 2), p=0.2),
        A.OneOf([A.MotionBlur(blur_limit=(3, 7)), A.GaussianBlur(blur_limit=(3, 5)),
                 A.Defocus(radius=(1, 3))], p=0.25),
        A.OneOf([A.GaussNoise(std_range=(0.02, 0.07)), A.ISONoise()], p=0.25),
        A.ImageCompression(quality_range=(35, 95), p=0.5),
    ])


class TrainTransform:
    """RGB uint8 -> phone-photo augmentation -> the runtime's normalisation.

    With the `squash` policy the photo is first squashed as the runtime does, so that the random crop at
    scale 1 is exactly the runtime's view of a wide photo; with the centre-crop policy the random crop
    works on the raw photo, as in the classic ImageNet recipe."""

    def __init__(self, size: int, cfg: PreprocessConfig):
        self.aug, self.cfg = phone_photo_augment(size), cfg

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if self.cfg.policy == SQUASH:
            rgb = geometry(rgb, self.cfg)
        return normalize(self.aug(image=rgb)["image"], self.cfg)


class EvalTransform:
    def __init__(self, cfg: PreprocessConfig):
        self.cfg = cfg

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return preprocess(rgb, self.cfg)
