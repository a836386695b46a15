package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/npy"
	"github.com/spf13/cobra"
)

type classifyOptions struct {
	*streams
	Run, Checkpoint, Images string
}

func newClassifyCmd(s *streams) *cobra.Command {
	o := &classifyOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "classify (--run RUN | --checkpoint DIR) --images FILE.npy|FOLDER",
		Short: "Classify images with a semi-supervised GAN's discriminator",
		Long: `Classify images with the discriminator of a semi-supervised GAN (model
sgan): it has one logit per class, and the predicted class is the largest.
Batch norm uses the running statistics of training, so each image's class
does not depend on the others.

--images is a float32 .npy file of shape (N, C, H, W) in [−1, 1] (as
'gantrain sample --format npy' writes; (N, H, W) for gray models), or a
folder of images (PNG, JPEG, GIF, BMP, WebP, found recursively), each
prepared as training prepares its data: the centred square resized to the
model's size, composited onto the run's data.background, gray or RGB.

stdout gets one line per image: its name (the .npy file's index, or the
file's path within the folder), a tab and the class name. Files that do
not decode are skipped with one line on stderr naming them.`,
		Example: `  gantrain classify --run runs/sgan --images digits/
  gantrain sample --run runs/sgan --n 16 --format npy --out s.npy && gantrain classify --run runs/sgan --images s.npy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runClassify(o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Run, "run", "", "run directory (its newest checkpoint)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint directory")
	f.StringVar(&o.Images, "images", "", "images to classify: a float32 .npy (N, C, H, W) in [−1, 1], or a folder of image files")
	return cmd
}

func runClassify(o *classifyOptions) error {
	if o.Images == "" {
		return usagef("--images: say which images to classify (a .npy file or a folder)")
	}
	fi, err := os.Stat(o.Images)
	if err != nil {
		return usagef("--images %s: %v", o.Images, unwrapPathErr(err))
	}
	ckpt, m, err := openClassifier(o.Run, o.Checkpoint)
	if err != nil {
		return err
	}
	pix := m.C * m.H * m.W
	var images []float32
	var names []string
	if fi.IsDir() {
		bg := ckpt.State.Config.Data.Background
		if bg == "" {
			bg = "white"
		}
		pixels, n, skipped, err := data.FolderImages(o.Images, m.H, m.C, bg)
		if err != nil {
			return usageError{fmt.Errorf("--images: %w", err)}
		}
		if len(skipped) > 0 {
			fmt.Fprintln(o.ErrOut, "gantrain: "+(&data.Report{Files: len(n) + len(skipped), Skipped: skipped}).SkipSummary())
		}
		images, names = data.Scaled(pixels), n
	} else {
		a, err := npy.ReadFloat32File(o.Images)
		if err != nil {
			return usageError{fmt.Errorf("--images: %w", err)}
		}
		s := a.Shape
		ok := (len(s) == 4 && s[1] == m.C && s[2] == m.H && s[3] == m.W) || (len(s) == 3 && m.C == 1 && s[1] == m.H && s[2] == m.W)
		if !ok || s[0] < 1 {
			return usagef("--images %s: shape %v, want (N, %d, %d, %d): the model's images", o.Images, s, m.C, m.H, m.W)
		}
		images = a.Data
		for i := range len(images) / pix {
			names = append(names, strconv.Itoa(i))
		}
	}
	start := time.Now()
	c, err := gen.NewClassifier(m, min(256, len(names)))
	if err != nil {
		return err
	}
	defer c.Close()
	classes, err := c.Classify(images)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(o.Out)
	for i, y := range classes {
		fmt.Fprintf(w, "%s\t%s\n", names[i], className(ckpt, y))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: classified %d images with %s in %s\n", len(classes), ckpt.Dir, time.Since(start).Round(time.Millisecond))
	return nil
}

// openClassifier opens a checkpoint of a classifier model (sgan).
func openClassifier(run, dir string) (*checkpoint.Checkpoint, *models.GAN, error) {
	ckpt, m, err := openCheckpoint(run, dir)
	if err != nil {
		return nil, nil, err
	}
	if !m.Classifier {
		return nil, nil, usagef("%s is a %s: its discriminator tells real from fake but does not classify; train a semi-supervised GAN (model: sgan, configs/sgan.yaml)", ckpt.Dir, m.Name)
	}
	return ckpt, m, nil
}

// className names class y of a checkpoint's data.
func className(c *checkpoint.Checkpoint, y int) string {
	if y < len(c.State.Classes) {
		return c.State.Classes[y]
	}
	return strconv.Itoa(y)
}
