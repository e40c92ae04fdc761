"""Test setup: Qt runs offscreen (no display needed), torch on one thread per test thread."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402

# the models under test are tiny: one intra-op thread is as fast as two, and on a loaded
# 2-core machine two threads per process stall each other (tests then take minutes)
torch.set_num_threads(1)
