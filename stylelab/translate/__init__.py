"""Unpaired translation: a cycle-consistent GAN (CycleGAN) on 2-D points and on MNIST <-> Fashion-MNIST."""
