/*
Gantrain trains generative adversarial networks on the CPU, without Python,
a GPU or a notebook, and lets you look at what they learned.

Usage:

	gantrain train --config configs/dcgan.yaml [--set key=value]... [--resume RUN] [--force]
	gantrain data [--config FILE] [--set key=value]... [--out grid.png]
	gantrain sample (--run RUN | --checkpoint DIR) [--n 64] [--seed 1] --out grid.png
	gantrain eval --run RUN --accuracy
	gantrain ablate --config FILE --vary key=a,b,... [--vary ...] [--seeds 3] [--epochs E] [--out DIR]
	gantrain classify --run RUN --images FILE.npy|FOLDER
	gantrain export --run RUN --to pytorch DIR
	gantrain import SRC [--to RUN]
	gantrain version

Configuration is YAML (configs/*.yaml). Every key can be overridden with a
repeatable --set key=value (--set train.steps=200) or from the environment
(GANTRAIN_TRAIN_STEPS=200); --set wins over the environment, which wins over
the file, which wins over the built-in defaults (the DCGAN reference
hyper-parameters). Unknown keys, wrong types and invalid values are errors
naming the key.

gantrain ablate trains every variant of a configuration (the cross
product of the --vary lists; a list value in brackets: --vary
train.augment=[],[translation,cutout,color]) once per seed, all for the
same number of steps, evaluates each final model as gantrain eval --run
does, and writes DIR/ablation.md (mean ± sample standard deviation per
variant) and DIR/ablation.json (every run).

A run directory holds config.yaml (the resolved configuration),
metrics.jsonl (one JSON object per logged step), samples/step-NNNNNN.png
(8×8 grids of fixed noise) and checkpoints/step-NNNNNN/ (model.safetensors with
PyTorch names and layouts, optim.safetensors, state.json).

Outputs (--out) are written atomically when they are files (a temporary
file, fsync, rename), in place when they are devices or named pipes
(/dev/null, a FIFO), and to stdout for --out -; messages go to stderr.

Exit status: 0 on success, 1 on failure, 2 for a usage or configuration
error, 130 or 143 when training was interrupted by SIGINT or SIGTERM (after
writing a checkpoint).
*/
package main
