"""Augmentation presets: training imitates a farmer's phone photo and takes away each dataset's look.

Order for one training photo (the last two steps are exactly the runtime's):
1. lab photos (a leaf on a plain backdrop) get a new background (`training.backgrounds`) with probability
   `bg_p`: paper of several whites, squared paper, soil, a hand, tables, foliage; any rotation and scale;
   other photos are turned by a multiple of 90 degrees and mirrored;
2. a share of the batch is replaced by synthetic non-plant photos labelled as the no-leaf class;
3. the runtime's leaf locator crops to the leaf when the background is plain (`model.locate`);
4. the runtime's resize policy (squash), then framing, light, colour temperature, blur, noise and JPEG
   (albumentations), then the runtime's normalisation.
Evaluation uses `model.preprocess.preprocess` with the same locator, nothing else.
"""
from __future__ import annotations

import albumentations as A
import cv2
import numpy as np

from leafscout.model.locate import LocatorConfig
from leafscout.model.preprocess import SQUASH, PreprocessConfig, frame, geometry, normalize, preprocess
from leafscout.training.backgrounds import leaf_alpha, replace_background, synthetic_negative
from leafscout.training.scene_synth import compose_scene, cut_leaf

# Datasets photographed as one leaf on a plain backdrop: their backdrop is a shortcut to the dataset.
LAB_DATASETS = ("plantvillage", "coffee_bracol", "mangoleafbd", "tea_leaf", "citrus_leaves")
# Field datasets: their photos lend foliage backgrounds to the lab leaves (rice_pest's rice plants too, so a
# rice-field backdrop never decides the crop by itself).
FIELD_DATASETS = ("apple_orchard_fgvc8", "ibean_uganda", "chilli_leaf", "rice_pest")


def phone_photo_augment(size: int) -> A.Compose:
    """Applied after the deployment geometry (so a crop at scale 1 is what the runtime sees)."""
    return A.Compose([
        A.RandomResizedCrop(size=(size, size), scale=(0.35, 1.0), ratio=(0.6, 1.667),
                            interpolation=cv2.INTER_AREA),
        A.HorizontalFlip(),
        A.VerticalFlip(p=0.3),
        A.Affine(rotate=(-30, 30), scale=(0.85, 1.15), border_mode=cv2.BORDER_REFLECT_101, p=0.5),
        A.Perspective(scale=(0.02, 0.08), p=0.3),
        A.PlanckianJitter(p=0.35),  # colour temperature: shade, noon sun, evening light
        A.ColorJitter(brightness=0.4, contrast=0.35, saturation=0.3, hue=0.03, p=0.8),
        A.RandomGamma(gamma_limit=(70, 140), p=0.3),  # exposure
        A.RandomShadow(shadow_roi=(0, 0, 1, 1), num_shadows_limit=(1, 2), p=0.2),
        A.OneOf([A.MotionBlur(blur_limit=(3, 7)), A.GaussianBlur(blur_limit=(3, 5)),
                 A.Defocus(radius=(1, 3))], p=0.3),
        A.OneOf([A.GaussNoise(std_range=(0.02, 0.07)), A.ISONoise()], p=0.25),
        # a photo shrunk by a messaging app and saved at low JPEG quality (held-out photos at quality 25 and
        # small lost 9 points with model 2.0.0, whose training never went below quality 30 at full size)
        A.Downscale(scale_range=(0.25, 0.75), p=0.25),
        A.ImageCompression(quality_range=(15, 95), p=0.6),
    ])


def small_jpeg(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo as a messaging app sends it: shrunk to 30-70% and saved at JPEG quality 15-60, at that small
    size, before the runtime's geometry enlarges it again (so the network sees enlarged JPEG blocks, as it
    does at run time; the JPEG step of `phone_photo_augment` compresses after the geometry instead)."""
    h, w = rgb.shape[:2]
    f = float(rng.uniform(0.3, 0.7))
    small = cv2.resize(rgb, (max(16, int(w * f)), max(16, int(h * f))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 61))])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) if ok else rgb


def field_scene(rgb: np.ndarray, rng: np.random.Generator, foliage: list) -> np.ndarray | None:
    """The lab photo's leaf cut out and pasted one to three times, turned and scaled (15-95% of the frame), on
    out-of-focus foliage, soil, a hand or a table (`scene_synth.compose_scene`): the leaf as a field photo shows
    it, one among several rather than filling a plain frame. None when the locator finds no clean leaf."""
    cut = cut_leaf(rgb)
    if cut is None:
        return None
    return compose_scene([cut], rng, size=max(rgb.shape[:2]), foliage=foliage, max_leaves=3)[0]


class TrainTransform:
    """(RGB uint8, dataset name) -> (float32 3xSxS, label override or None).

    `negative_label` is the no-leaf class index: a synthetic non-plant photo replaces the sample with
    probability `negative_p`. `foliage` is a list of field photos (RGB) used as backgrounds. A lab photo becomes a
    field-like scene of its own leaf with probability `scene_p` (`field_scene`), else gets a new background with
    probability `bg_p`."""

    def __init__(self, size: int, cfg: PreprocessConfig, locator: LocatorConfig | None = None,
                 bg_p: float = 0.0, negative_p: float = 0.0, negative_label: int | None = None,
                 foliage: list | None = None, seed: int = 0, small_jpeg_p: float = 0.0, scene_p: float = 0.0):
        self.aug, self.cfg, self.locator = phone_photo_augment(size), cfg, locator
        self.bg_p, self.negative_p, self.negative_label = bg_p, negative_p, negative_label
        self.scene_p = scene_p
        self.small_jpeg_p = small_jpeg_p
        self.foliage = foliage or []
        self.rng = np.random.default_rng(seed)

    def reseed(self, seed: int) -> None:
        """Each DataLoader worker calls this so workers do not draw the same backgrounds."""
        self.rng = np.random.default_rng(seed)

    def scene(self, rgb: np.ndarray, dataset: str | None) -> tuple[np.ndarray, int | None]:
        """Steps 1-2: the photo as a phone might have taken it, and a label override for negatives."""
        rng = self.rng
        if self.negative_label is not None and rng.random() < self.negative_p:
            return synthetic_negative(rng, int(rng.choice([160, 224, 320]))), self.negative_label
        if dataset in LAB_DATASETS and self.scene_p and rng.random() < self.scene_p:
            scene = field_scene(rgb, rng, self.foliage)
            if scene is not None:
                return scene, None
        if dataset in LAB_DATASETS and rng.random() < self.bg_p:
            alpha = leaf_alpha(rgb)
            if alpha is not None:
                return replace_background(rgb, alpha, rng, self.foliage), None
        k = int(rng.integers(4)) if dataset in LAB_DATASETS else int(rng.choice([0, 0, 1, 3]))
        if k:
            rgb = np.ascontiguousarray(np.rot90(rgb, k))
        return rgb, None

    def __call__(self, rgb: np.ndarray, dataset: str | None = None) -> tuple[np.ndarray, int | None]:
        rgb, label = self.scene(rgb, dataset)
        if self.small_jpeg_p and self.rng.random() < self.small_jpeg_p:
            rgb = small_jpeg(rgb, self.rng)
        if self.locator is not None:
            rgb = frame(rgb, self.cfg, self.locator)[0]
        elif self.cfg.policy == SQUASH:
            rgb = geometry(rgb, self.cfg)
        return normalize(self.aug(image=rgb)["image"], self.cfg), label


class EvalTransform:
    def __init__(self, cfg: PreprocessConfig, locator: LocatorConfig | None = None):
        self.cfg, self.locator = cfg, locator

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return preprocess(rgb, self.cfg, self.locator)
