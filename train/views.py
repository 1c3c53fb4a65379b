"""Consistent distillation: the teachers label augmented views once, and the student trains on those views.

Offline targets (train/distill.py) are the teachers' answers for the clean face, while the student sees an
augmented version of it, so a face zoomed, turned or partly erased still gets the clean face's target. Beyer
et al. 2022 ("Knowledge distillation: a good teacher is patient and consistent") found that teacher and
student must see the same view. Asking four teachers at every step would cost ~2.5 min per epoch here
(3 h per student), so, as in Shen & Xing 2021 (FKD), every training image gets `teacher_views` augmented
views up front, the teachers label each view once, and in each epoch the student draws one view per image.

A target is the mean of the teachers' answers for a view and its mirror, so it is also the right target
for the mirrored view: the student flips at random on top, at no cost to consistency.

The views come from stateless seeds and are remade at every start (seconds); only the teachers' answers
are cached (`teacher_views.npz`, ~0.15 MB per view in steps of 1/255: small enough to commit when a run spans
sessions). The cache's fingerprint covers the views' pixels, so answers for other pixels are never reused. View
k is the same for every count of views, so a run with more views than an earlier one of the same seed, teachers
and augmentation reuses that run's answers for its first views and labels only the rest; its cache then stores
only the rest and names that run's file (train/distill.py), so 48 views stay as small to commit as 24.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from train.augment_config import AugmentConfig

VIEWS_FILE = "teacher_views.npz"
_BATCH = 1024


def augmented_views(images: np.ndarray, config: AugmentConfig, views: int, seed: int) -> np.ndarray:
    """(views, N, H, W) uint8: `views` augmented copies of (N, H, W) uint8 images, the same for the same seed."""
    import tensorflow as tf

    from train.augment import augment_batch

    if views < 1:
        raise ValueError(f"teacher_views must be at least 1, got {views}")
    out = np.empty((views, *images.shape), np.uint8)
    for view in range(views):
        for start in range(0, len(images), _BATCH):
            batch = tf.constant(images[start:start + _BATCH, ..., None], tf.float32)
            step_seed = tf.constant([seed, view * 1_000_003 + start], tf.int64)
            augmented = augment_batch(batch, step_seed, config).numpy()[..., 0]
            out[view, start:start + _BATCH] = np.rint(augmented).astype(np.uint8)  # augment_batch clips to 0–255
    return out


class ViewSampler:
    """Batches of (image, target[, weight]) for one epoch: every image once, in a shuffled order, as one of
    its views drawn at random and mirrored at random. The epoch decides the draw, so a resumed run
    continues the sequence it would have followed."""

    def __init__(self, views: np.ndarray, targets: np.ndarray, batch_size: int, seed: int,
                 weights: np.ndarray | None = None):
        if views.shape[:2] != targets.shape[:2]:
            raise ValueError(f"views {views.shape[:2]} and targets {targets.shape[:2]} do not match")
        self.views, self.targets = views, targets.astype(np.float32)
        self.weights = None if weights is None else weights.astype(np.float32)
        self.batch_size, self.seed = batch_size, seed

    def __len__(self) -> int:
        return self.views.shape[1] // self.batch_size  # whole batches only, as the tf.data pipeline

    def epoch_plan(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(order, view, mirror) for every image of `epoch`."""
        rng = np.random.default_rng([self.seed, epoch])
        count, n = self.views.shape[:2]
        return rng.permutation(n), rng.integers(0, count, n), rng.random(n) < 0.5

    def batch(self, plan: tuple[np.ndarray, np.ndarray, np.ndarray], index: int):
        order, view, mirror = plan
        rows = order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.views[view[rows], rows].astype(np.float32)
        x = np.where(mirror[rows, None, None], x[:, :, ::-1], x)[..., None]
        y = self.targets[view[rows], rows]
        return (x, y) if self.weights is None else (x, y, self.weights[rows])


def view_dataset(sampler: ViewSampler, start_epoch: int):
    """(keras PyDataset, callback): the dataset serves `sampler`'s batches, and the callback points it at
    each epoch's plan as the epoch begins. Keras's own on_epoch_end is not used: it also fires after the
    batches Keras reads before training to build the model, which would shift every epoch's draw by one."""
    import keras

    class _ViewDataset(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()  # one worker, no processes: batches are read in order, after on_epoch_begin
            self.plan = sampler.epoch_plan(start_epoch)

        def __len__(self) -> int:
            return len(sampler)

        def __getitem__(self, index: int):
            return sampler.batch(self.plan, index)

    dataset = _ViewDataset()

    class _FollowEpochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            dataset.plan = sampler.epoch_plan(epoch)

    return dataset, _FollowEpochs()
