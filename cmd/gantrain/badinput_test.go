package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/npy"
	"github.com/gantrain/gantrain/internal/safetensors"
	"github.com/spf13/cobra"
)

// snapshot maps every file under the directories to a hash of its content.
func snapshot(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range dirs {
		walkHash(dir, out)
	}
	return out
}

// walkHash records every file under dir: small files by a hash of their
// content, large ones (checkpoints, data sets) by size, modification time
// and inode, which any write or replacement changes, to keep the
// snapshots of 60 cases quick.
func walkHash(dir string, out map[string]string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[p] = "dir"
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Size() > 64<<10 {
			var ino uint64
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				ino = st.Ino
			}
			out[p] = fmt.Sprintf("%d bytes, modified %d, inode %d, %v", fi.Size(), fi.ModTime().UnixNano(), ino, fi.Mode())
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
}

func diffSnapshots(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, "changed or removed: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, "created: "+k)
		}
	}
	return d
}

// copyRun copies a run directory.
func copyRun(t *testing.T, src, dst string) {
	t.Helper()
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, _ := os.ReadFile(p)
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

// editWeights rewrites one checkpoint's model.safetensors through edit.
func editWeights(t *testing.T, path string, edit func(ts []safetensors.Tensor) []safetensors.Tensor) {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ts := edit(append([]safetensors.Tensor(nil), f.Tensors...))
	b, err := safetensors.Marshal(ts, f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func idxHeader(magic uint32, dims ...uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// Every bad input ends with a one-line error naming the file, flag or key
// and the problem, the right exit status, and no file created or changed.
func TestBadInputsChangeNothing(t *testing.T) {
	tmp := t.TempDir()
	write := func(name string, content []byte) string {
		p := filepath.Join(tmp, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Data directories.
	tiny, _ := os.ReadFile(filepath.Join(tinyData, "train-labels-idx1-ubyte.gz"))
	tinyImgs, _ := os.ReadFile(filepath.Join(tinyData, "train-images-idx3-ubyte.gz"))
	dataDir := func(name string, imgs, labels []byte) string {
		write(name+"/train-images-idx3-ubyte", imgs)
		write(name+"/train-labels-idx1-ubyte", labels)
		return filepath.Join(tmp, name)
	}
	goodLabels := append(idxHeader(0x801, 2), 1, 2)
	badMagic := dataDir("magic", append(idxHeader(0x801, 2, 28, 28), make([]byte, 2*784)...), goodLabels)
	truncated := dataDir("trunc", append(idxHeader(0x803, 2, 28, 28), make([]byte, 700)...), goodLabels)
	mismatch := dataDir("mismatch", append(idxHeader(0x803, 3, 28, 28), make([]byte, 3*784)...), goodLabels)
	absurd := dataDir("absurd", append(idxHeader(0x803, 1000000, 4096, 4096), make([]byte, 10)...), goodLabels)
	big := dataDir("idx24", append(idxHeader(0x803, 64, 24, 24), make([]byte, 64*24*24)...), append(idxHeader(0x801, 64), make([]byte, 64)...))
	tinyCopy := filepath.Join(tmp, "tinycopy")
	copyRun(t, tinyData, tinyCopy)
	write("gzdata/train-images-idx3-ubyte.gz", tinyImgs[:len(tinyImgs)/2])
	write("gzdata/train-labels-idx1-ubyte.gz", tiny)
	cutGzip := filepath.Join(tmp, "gzdata")

	// Configs.
	cfg := func(name, body string) string { return write(name, []byte(body)) }
	unknownKey := cfg("unknown.yaml", "model: dcgan\ntrain:\n  bacth_size: 64\n")
	badType := cfg("type.yaml", "train:\n  batch_size: lots\n")
	badYAML := cfg("bad.yaml", "train: [\n")
	negLR := cfg("lr.yaml", "optim:\n  d:\n    lr: -0.1\n")
	betas := cfg("betas.yaml", "optim:\n  g:\n    betas: [0.5]\n")
	section := cfg("section.yaml", "train: 5\n")
	os.MkdirAll(filepath.Join(tmp, "cfgdir.yaml"), 0o755)

	// A good run and damaged copies of it.
	good := filepath.Join(tmp, "good")
	if code, _, errOut := gantrain(t, tinyArgs(good, 2)...); code != 0 {
		t.Fatal(errOut)
	}
	ck := "checkpoints/step-000002"
	goodSGAN := filepath.Join(tmp, "goodsgan")
	if code, _, errOut := gantrain(t, sganArgs(goodSGAN, 2)...); code != 0 {
		t.Fatal(errOut)
	}
	folderData := filepath.Join(tmp, "folderdata")
	write("folderdata/a/x.png", tinyPNG(t))
	write("folderdata/b/y.png", tinyPNG(t))
	damaged := func(name string, damage func(dir string)) string {
		dir := filepath.Join(tmp, name)
		copyRun(t, good, dir)
		damage(filepath.Join(dir, ck))
		return dir
	}
	weights := func(dir string) string { return filepath.Join(dir, ck, "model.safetensors") }
	truncW := damaged("truncw", func(d string) {
		p := filepath.Join(d, "model.safetensors")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-100], 0o644)
	})
	liar := damaged("liar", func(d string) {
		p := filepath.Join(d, "model.safetensors")
		b, _ := os.ReadFile(p)
		binary.LittleEndian.PutUint64(b, 1<<62) // header size far beyond the file
		os.WriteFile(p, b, 0o644)
	})
	missing := damaged("missingt", func(d string) {
		editWeights(t, filepath.Join(d, "model.safetensors"), func(ts []safetensors.Tensor) []safetensors.Tensor { return ts[1:] })
	})
	extra := damaged("extrat", func(d string) {
		editWeights(t, filepath.Join(d, "model.safetensors"), func(ts []safetensors.Tensor) []safetensors.Tensor {
			x, _ := safetensors.FromFloat32("g.extra.weight", []int{1}, []float32{1})
			return append(ts, x)
		})
	})
	shape := damaged("shape", func(d string) {
		editWeights(t, filepath.Join(d, "model.safetensors"), func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "g.up2.weight" {
					ts[i].Shape = []int{1, 64, 4, 4}
				}
			}
			return ts
		})
	})
	dtype := damaged("dtype", func(d string) {
		editWeights(t, filepath.Join(d, "model.safetensors"), func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "d.fc.bias" {
					ts[i].DType = safetensors.I32
				}
			}
			return ts
		})
	})
	nan := damaged("nan", func(d string) {
		editWeights(t, filepath.Join(d, "model.safetensors"), func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "g.up2.bias" {
					ts[i].Data = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
				}
			}
			return ts
		})
	})
	otherModel := damaged("other", func(d string) {
		p := filepath.Join(d, "state.json")
		b, _ := os.ReadFile(p)
		b = []byte(strings.ReplaceAll(string(b), `"model": "dcgan"`, `"model": "cgan"`))
		os.WriteFile(p, b, 0o644)
	})
	hinge := damaged("hinge", func(d string) {
		p := filepath.Join(d, "state.json")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(b), `"loss": ""`, `"loss": "hinge"`, 1)), 0o644)
	})
	specNorm := damaged("specnorm", func(d string) {
		p := filepath.Join(d, "state.json")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(b), `"spectral_norm": false`, `"spectral_norm": true`, 1)), 0o644)
	})
	noOptim := damaged("nooptim", func(d string) { os.Remove(filepath.Join(d, "optim.safetensors")) })
	badState := damaged("badstate", func(d string) { os.WriteFile(filepath.Join(d, "state.json"), []byte(`{"format_version": 1,`), 0o644) })
	out := filepath.Join(tmp, "out.png")
	zShape := filepath.Join(tmp, "z99.npy")
	npy.WriteFloat32File(zShape, []int{2, 99}, make([]float32, 198))
	zInt := filepath.Join(tmp, "zint.npy")
	npy.WriteInt64File(zInt, []int{1, 100}, make([]int64, 100))
	samples3D := filepath.Join(tmp, "flat.npy")
	npy.WriteFloat32File(samples3D, []int{4, 784}, make([]float32, 4*784))

	type tc struct {
		name string
		args []string
		env  map[string]string
		code int
		want []string
	}
	cases := []tc{
		{"unknown key in file", []string{"train", "--config", unknownKey}, nil, 2, []string{unknownKey, "train.bacth_size", "did you mean train.batch_size"}},
		{"wrong type in file", []string{"train", "--config", badType}, nil, 2, []string{badType, "train.batch_size", "want an integer"}},
		{"broken yaml", []string{"train", "--config", badYAML}, nil, 2, []string{badYAML, "yaml"}},
		{"negative learning rate", []string{"train", "--config", negLR}, nil, 2, []string{negLR, "optim.d.lr"}},
		{"one beta", []string{"train", "--config", betas}, nil, 2, []string{betas, "optim.g.betas"}},
		{"value for a section", []string{"train", "--config", section}, nil, 2, []string{section, "train is a section", "batch_size"}},
		{"config is a directory", []string{"train", "--config", filepath.Join(tmp, "cfgdir.yaml")}, nil, 2, []string{"cfgdir.yaml", "directory"}},
		{"missing config", []string{"train", "--config", filepath.Join(tmp, "nope.yaml")}, nil, 2, []string{"nope.yaml", "no such file"}},
		{"negative batch", []string{"train", "--set", "train.batch_size=-3"}, nil, 2, []string{"--set train.batch_size=-3", "train.batch_size", "must be between"}},
		{"unknown precision", []string{"train", "--set", "train.precision=fp16"}, nil, 2, []string{"train.precision", "fp16", "fp32 or bf16"}},
		{"unknown model", []string{"train", "--set", "model=stylegan"}, nil, 2, []string{"model", "stylegan", "dcgan"}},
		{"unknown --set key", []string{"train", "--set", "train.step=3"}, nil, 2, []string{"unknown key", "train.steps"}},
		{"--set without =", []string{"train", "--set", "train.steps"}, nil, 2, []string{"key=value"}},
		{"bad env value", []string{"train"}, map[string]string{"GANTRAIN_TRAIN_STEPS": "many"}, 2, []string{"GANTRAIN_TRAIN_STEPS", "train.steps", "want an integer"}},
		{"unknown env var", []string{"train"}, map[string]string{"GANTRAIN_TRAIN_STPES": "3"}, 2, []string{"GANTRAIN_TRAIN_STPES", "not a configuration variable"}},
		{"missing data dir", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + filepath.Join(tmp, "nodata"), "--set", "output.dir=" + filepath.Join(tmp, "o1")}, nil, 1, []string{filepath.Join(tmp, "nodata")}},
		{"IDX wrong magic", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + badMagic, "--set", "output.dir=" + filepath.Join(tmp, "o2")}, nil, 1, []string{filepath.Join(badMagic, "train-images-idx3-ubyte"), "magic"}},
		{"IDX truncated", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + truncated, "--set", "output.dir=" + filepath.Join(tmp, "o3")}, nil, 1, []string{filepath.Join(truncated, "train-images-idx3-ubyte"), "truncated"}},
		{"IDX count mismatch", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + mismatch, "--set", "output.dir=" + filepath.Join(tmp, "o4")}, nil, 1, []string{"3", "2", "train-labels-idx1-ubyte"}},
		{"IDX absurd dimensions", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + absurd, "--set", "output.dir=" + filepath.Join(tmp, "o5")}, nil, 1, []string{filepath.Join(absurd, "train-images-idx3-ubyte")}},
		{"IDX gzip cut short", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + cutGzip, "--set", "output.dir=" + filepath.Join(tmp, "o6")}, nil, 1, []string{filepath.Join(cutGzip, "train-images-idx3-ubyte.gz")}},
		{"--force, data the model cannot take", []string{"train", "--force", "--set", "data.name=idx", "--set", "data.path=" + big, "--set", "output.dir=" + good}, nil, 2, []string{big, "1×24×24", "built for 16, 28, 32, 64, 128, 256 px"}},
		{"data the model cannot take, new output.dir", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + big, "--set", "output.dir=" + filepath.Join(tmp, "o7")}, nil, 2, []string{big, "1×24×24"}},
		{"output.dir inside the data", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + tinyCopy, "--set", "train.batch_size=16", "--set", "output.dir=" + filepath.Join(tinyCopy, "run")}, nil, 2, []string{"inside the data directory", tinyCopy}},
		{"output.dir is a file", []string{"train", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--set", "train.batch_size=16", "--set", "output.dir=" + unknownKey}, nil, 2, []string{"output.dir " + unknownKey, "not a directory"}},
		{"output.dir holds a run", []string{"train", "--set", "model=cgan", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--set", "output.dir=" + good}, nil, 2, []string{good, "already holds a run", "--resume", "--force"}},
		{"truncated weights", []string{"sample", "--run", truncW, "--out", out}, nil, 1, []string{weights(truncW)}},
		{"header lies about its size", []string{"sample", "--run", liar, "--out", out}, nil, 1, []string{weights(liar), "header"}},
		{"missing tensor", []string{"sample", "--run", missing, "--out", out}, nil, 1, []string{weights(missing), "missing tensor"}},
		{"extra tensor", []string{"sample", "--run", extra, "--out", out}, nil, 1, []string{weights(extra), "unexpected tensor", "g.extra.weight"}},
		{"wrong shape", []string{"sample", "--run", shape, "--out", out}, nil, 1, []string{weights(shape), "g.up2.weight", "shape"}},
		{"wrong dtype", []string{"sample", "--run", dtype, "--out", out}, nil, 1, []string{weights(dtype), "d.fc.bias", "I32"}},
		{"NaN weights", []string{"sample", "--run", nan, "--out", out}, nil, 1, []string{weights(nan), "g.up2.bias", "non-finite"}},
		{"another model's weights", []string{"sample", "--run", otherModel, "--out", out}, nil, 1, []string{"state.json", "cgan", "dcgan"}},
		{"resume, truncated weights", []string{"train", "--resume", truncW, "--set", "train.steps=4"}, nil, 1, []string{weights(truncW)}},
		{"resume with another width", []string{"train", "--resume", good, "--set", "width=32", "--set", "train.steps=4"}, nil, 2, []string{good, "width 64", "width 32"}},
		{"resume, NaN weights", []string{"train", "--resume", nan, "--set", "train.steps=4"}, nil, 1, []string{weights(nan), "non-finite"}},
		{"resume, no optimiser state", []string{"train", "--resume", noOptim, "--set", "train.steps=4"}, nil, 1, []string{noOptim, "optim.safetensors", "cannot be resumed exactly"}},
		{"resume, broken state.json", []string{"train", "--resume", badState, "--set", "train.steps=4"}, nil, 1, []string{filepath.Join(badState, ck, "state.json")}},
		{"resume, not a run", []string{"train", "--resume", filepath.Join(tmp, "magic")}, nil, 2, []string{"not a run directory"}},
		{"resume with another model's config", []string{"train", "--resume", good, "--set", "model=cgan"}, nil, 2, []string{"checkpoint is for model dcgan", "config says cgan"}},
		{"sample, bad --class", []string{"sample", "--run", good, "--class", "3", "--out", out}, nil, 2, []string{"--class", "not conditional"}},
		{"--z of the wrong shape", []string{"sample", "--run", good, "--z", zShape, "--out", out}, nil, 2, []string{zShape, "(N, 100)"}},
		{"--z of the wrong dtype", []string{"sample", "--run", good, "--z", zInt, "--out", out}, nil, 2, []string{zInt, "float32"}},
		{"eval --samples of the wrong shape", []string{"eval", "--samples", samples3D}, nil, 2, []string{samples3D, "(N, 1, 28, 28)"}},
		{"interpolate, bad expression", []string{"interpolate", "--run", good, "--expr", "s1 + * s2", "--out", out}, nil, 2, []string{"--expr", "col 6"}},
		{"sample, more than 10000 PNG files", []string{"sample", "--run", good, "--format", "pngs", "--n", "10001", "--out", filepath.Join(tmp, "many")}, nil, 2, []string{"10001 files", "--many"}},
		{"sample, --out in a missing directory", []string{"sample", "--run", good, "--out", filepath.Join(tmp, "nodir", "g.png")}, nil, 2, []string{"--out", filepath.Join(tmp, "nodir"), "does not exist"}},
		{"sample, --save-z in a missing directory", []string{"sample", "--run", good, "--out", out, "--save-z", filepath.Join(tmp, "nodir", "z.npy")}, nil, 2, []string{"--save-z", "does not exist"}},
		{"sample, --out is a directory", []string{"sample", "--run", good, "--format", "png", "--out", filepath.Join(tmp, "magic")}, nil, 2, []string{"--out", "is a directory"}},
		{"interpolate, --out in a missing directory", []string{"interpolate", "--run", good, "--from", "1", "--to", "2", "--out", filepath.Join(tmp, "nodir", "s.png")}, nil, 2, []string{"--out", "does not exist"}},
		{"eval, not a run", []string{"eval", "--run", filepath.Join(tmp, "magic")}, nil, 1, []string{filepath.Join(tmp, "magic")}},
		{"plot, not a run", []string{"plot", "--run", filepath.Join(tmp, "magic")}, nil, 2, []string{"not a run directory"}},
		{"bench, --cpuprofile in a missing directory", []string{"bench", "--iters", "1", "--cpuprofile", filepath.Join(tmp, "nodir", "cpu.prof")}, nil, 2, []string{"--cpuprofile", filepath.Join(tmp, "nodir"), "does not exist"}},
		{"bench, data the model cannot take", []string{"bench", "--real", "--set", "data.name=idx", "--set", "data.path=" + big}, nil, 2, []string{big, "1×24×24"}},
		{"data, --out in a missing directory", []string{"data", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--out", filepath.Join(tmp, "nodir", "d.png")}, nil, 2, []string{"--out", "does not exist"}},
		{"classifier train, --out in a missing directory", []string{"classifier", "train", "--out", filepath.Join(tmp, "nodir", "c.safetensors")}, nil, 2, []string{"--out", "does not exist"}},
		{"classifier train --config, bad --epochs", []string{"classifier", "train", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--epochs", "-1"}, nil, 2, []string{"--epochs"}},
		{"classifier train --config, --out inside the data", []string{"classifier", "train", "--set", "data.name=idx", "--set", "data.path=" + tinyCopy, "--out", filepath.Join(tinyCopy, "c.safetensors")}, nil, 2, []string{"--out", "inside the data folder", tinyCopy}},
		{"classifier train --rotation, --out in a missing directory", []string{"classifier", "train", "--rotation", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--out", filepath.Join(tmp, "nodir", "r.safetensors")}, nil, 2, []string{"--out", "does not exist"}},
		{"eval, no classifier for the run's data", []string{"eval", "--run", good}, map[string]string{"XDG_CACHE_HOME": filepath.Join(tmp, "nocache")}, 2, []string{"no classifier stored", "gantrain classifier train --config " + filepath.Join(good, "config.yaml")}},
		{"eval --nearest without a model", []string{"eval", "--samples", samples3D, "--nearest", "4"}, nil, 2, []string{"--nearest needs --run or --checkpoint"}},
		{"eval --nearest, grid in a missing directory", []string{"eval", "--run", good, "--nearest", "4", "--nearest-out", filepath.Join(tmp, "nodir", "n.png")}, nil, 2, []string{"--nearest-out", "does not exist"}},
		{"classifier test, missing weights", []string{"classifier", "test", "--weights", filepath.Join(tmp, "nope.safetensors")}, nil, 1, []string{"nope.safetensors"}},
		{"sample, bad --n", []string{"sample", "--run", good, "--n", "0", "--out", out}, nil, 2, []string{"--n"}},
		{"control, unknown feature", []string{"control", "--run", good, "--feature", "fatness", "--out", out}, nil, 2, []string{"fatness", "known: ink, thickness"}},
		{"control, class feature without a classifier", []string{"control", "--run", good, "--feature", "class:3", "--out", out}, nil, 2, []string{"class:3", "no classifier"}},
		{"directions, neither --feature nor --unsupervised", []string{"directions", "--run", good, "--out", filepath.Join(tmp, "d.npy")}, nil, 2, []string{"--feature F or --unsupervised K"}},
		{"data.labeled for a model without labels", []string{"train", "--set", "data.labeled=100"}, nil, 2, []string{"data.labeled", "model: sgan", "model is dcgan"}},
		{"train.supervised_only for a dcgan", []string{"train", "--set", "train.supervised_only=true"}, nil, 2, []string{"train.supervised_only", "model is dcgan"}},
		{"unknown sgan.g_loss", []string{"train", "--config", "../../configs/sgan.yaml", "--set", "sgan.g_loss=minimax"}, nil, 2, []string{"sgan.g_loss", "minimax", "feature_matching, non_saturating"}},
		{"data.labeled beyond the data", []string{"train", "--config", "../../configs/sgan.yaml", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--set", "data.labeled=1000", "--set", "output.dir=" + filepath.Join(tmp, "o8")}, nil, 2, []string{"data.labeled 1000", "320"}},
		{"data.labeled below the classes", []string{"train", "--config", "../../configs/sgan.yaml", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--set", "data.labeled=5", "--set", "train.batch_size=16", "--set", "output.dir=" + filepath.Join(tmp, "o9")}, nil, 2, []string{"data.labeled 5", "number of classes (10)"}},
		{"sgan on unlabelled data", []string{"train", "--config", "../../configs/sgan.yaml", "--set", "data.name=idx", "--set", "data.path=" + filepath.Join(tinyData, "train-images-idx3-ubyte.gz"), "--set", "output.dir=" + filepath.Join(tmp, "o10")}, nil, 2, []string{"unlabelled", "sgan", "needs labels"}},
		{"eval --accuracy of a dcgan", []string{"eval", "--run", good, "--accuracy"}, nil, 2, []string{"dcgan", "does not classify", "sgan"}},
		{"eval --accuracy without a run", []string{"eval", "--accuracy"}, nil, 2, []string{"--accuracy needs --run"}},
		{"eval --accuracy with --samples", []string{"eval", "--run", goodSGAN, "--accuracy", "--samples", samples3D}, nil, 2, []string{"--accuracy", "--samples"}},
		{"ablate, unknown --vary key", []string{"ablate", "--vary", "lose=bce,hinge", "--out", filepath.Join(tmp, "ab1")}, nil, 2, []string{"--vary", `unknown key "lose"`, "did you mean loss?"}},
		{"ablate, a bad --vary value", []string{"ablate", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--vary", "train.augment=[],[flip]", "--out", filepath.Join(tmp, "ab2")}, nil, 2, []string{"train.augment=[flip]", `unknown augmentation "flip"`}},
		{"ablate, no classifier for the data", []string{"ablate", "--set", "data.name=idx", "--set", "data.path=" + tinyData, "--vary", "loss=bce,hinge", "--out", filepath.Join(tmp, "ab3")}, map[string]string{"XDG_CACHE_HOME": filepath.Join(tmp, "nocache")}, 2, []string{"no classifier stored", "classifier train"}},
		{"classify, no --images", []string{"classify", "--run", goodSGAN}, nil, 2, []string{"--images"}},
		{"classify, missing --images", []string{"classify", "--run", goodSGAN, "--images", filepath.Join(tmp, "none.npy")}, nil, 2, []string{"--images", "none.npy", "no such file"}},
		{"classify, images of the wrong shape", []string{"classify", "--run", goodSGAN, "--images", samples3D}, nil, 2, []string{samples3D, "[4 784]", "(N, 1, 28, 28)"}},
		{"classify, a folder without images", []string{"classify", "--run", goodSGAN, "--images", filepath.Join(tmp, "cfgdir.yaml")}, nil, 2, []string{"cfgdir.yaml", "no image file"}},
		{"classify, a dcgan", []string{"classify", "--run", good, "--images", folderData}, nil, 2, []string{"dcgan", "does not classify"}},
		{"export, a semi-supervised GAN", []string{"export", "--run", goodSGAN, "--to", "pytorch", filepath.Join(tmp, "ex1")}, nil, 2, []string{"model sgan", "covers dcgan, wgan, cgan, gan"}},
		{"export, a hinge-loss run", []string{"export", "--run", hinge, "--to", "pytorch", filepath.Join(tmp, "ex4")}, nil, 2, []string{"loss hinge", "bce and wasserstein"}},
		{"export, a run with spectral norm", []string{"export", "--run", specNorm, "--to", "pytorch", filepath.Join(tmp, "ex5")}, nil, 2, []string{"spectral_norm", "does not have yet"}},
		{"export, into a directory with files", []string{"export", "--run", good, "--to", "pytorch", filepath.Join(tmp, "magic")}, nil, 2, []string{filepath.Join(tmp, "magic"), "not empty"}},
		{"export, unknown target", []string{"export", "--run", good, "--to", "onnx", filepath.Join(tmp, "ex2")}, nil, 2, []string{"--to", "onnx", "pytorch"}},
		{"export, damaged weights", []string{"export", "--run", nan, "--to", "pytorch", filepath.Join(tmp, "ex3")}, nil, 2, []string{weights(nan), "non-finite"}},
		{"export into the data", []string{"export", "--run", good, "--to", "pytorch", filepath.Join(tinyData, "torch")}, nil, 2, []string{filepath.Join(tinyData, "torch"), "inside the data directory " + tinyData}},
		{"import, not an export", []string{"import", filepath.Join(tmp, "magic"), "--to", filepath.Join(tmp, "im1")}, nil, 2, []string{filepath.Join(tmp, "magic", "gantrain.json"), "not an export"}},
		{"import, a tensor missing", []string{"import", weights(missing), "--to", filepath.Join(tmp, "im2")}, nil, 2, []string{weights(missing), "missing tensor"}},
		{"import, a tensor of the wrong shape", []string{"import", weights(shape), "--to", filepath.Join(tmp, "im3")}, nil, 2, []string{weights(shape), "64 channels"}},
		{"import into a run", []string{"import", weights(good), "--to", good}, nil, 2, []string{good, "not empty"}},
		{"unknown flag", []string{"train", "--bogus"}, nil, 2, []string{"bogus"}},
		{"unknown command", []string{"trian"}, nil, 2, []string{"trian"}},
	}
	// Every file a case could touch: its inputs, the runs, the data sets,
	// the configs and the current directory (where default outputs go).
	touched := []string{tmp, tinyData, "../../configs", "."}
	if dir, err := mnist.DefaultDir(); err == nil {
		touched = append(touched, dir)
	}
	var table strings.Builder // GOTEST_BADINPUT_TABLE=file writes docs/reliability.md's table
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			before := snapshot(t, touched...)
			code, stdout, errOut := gantrain(t, c.args...)
			shown := strings.ReplaceAll(strings.TrimSpace(errOut), tmp+"/", "")
			fmt.Fprintf(&table, "| %s | %d | `%s` |\n", c.name, code, strings.ReplaceAll(shown, "|", "\\|"))
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if stdout != "" {
				t.Errorf("stdout %q on error", stdout)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 || errOut == "" {
				t.Errorf("error is not one line: %q", errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if d := diffSnapshots(before, snapshot(t, touched...)); len(d) > 0 {
				t.Errorf("files changed: %v", d)
			}
		})
	}
	// Every command has bad inputs here, and docs/reliability.md shows
	// every case.
	var names []string
	for _, c := range cases {
		names = append(names, strings.Join(c.args[:min(2, len(c.args))], " "))
	}
	for _, cmd := range leafCommands(newRootCmd(&streams{})) {
		if cmd == "version" || cmd == "help" || cmd == "completion" {
			continue
		}
		found := false
		for _, n := range names {
			found = found || n == cmd || strings.HasPrefix(n, cmd+" ")
		}
		if !found {
			t.Errorf("no bad input for %q", cmd)
		}
	}
	documented := docTable(t, "../../docs/reliability.md")
	for i, c := range cases {
		if i >= len(documented) || documented[i] != fmt.Sprintf("%s|%d", c.name, c.code) {
			t.Errorf("docs/reliability.md does not show case %d, %q (exit %d); regenerate its table with GOTEST_BADINPUT_TABLE=file", i+1, c.name, c.code)
			break
		}
	}
	if len(documented) != len(cases) {
		t.Errorf("docs/reliability.md shows %d cases, the test has %d", len(documented), len(cases))
	}
	if p := os.Getenv("GOTEST_BADINPUT_TABLE"); p != "" {
		os.WriteFile(p, []byte(table.String()), 0o644)
	}
}

// leafCommands lists the runnable commands ("train", "classifier test").
func leafCommands(c *cobra.Command) []string {
	var out []string
	for _, sub := range c.Commands() {
		if sub.HasSubCommands() {
			for _, l := range leafCommands(sub) {
				out = append(out, sub.Name()+" "+l)
			}
			continue
		}
		out = append(out, sub.Name())
	}
	return out
}

// docTable reads the bad-input table of docs/reliability.md as "case|exit"
// rows.
func docTable(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| case | exit | message")
	if !ok {
		t.Fatalf("%s has no bad-input table", path)
	}
	var rows []string
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "| ") {
			break
		}
		f := strings.SplitN(line, " | ", 3)
		rows = append(rows, strings.TrimPrefix(f[0], "| ")+"|"+f[1])
	}
	return rows
}
