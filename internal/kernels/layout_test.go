package kernels

import "testing"

func TestBatchLastRoundTrip(t *testing.T) {
	// Three vectors of 4 into a batch of 5 (two columns left empty).
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	dst := make([]float32, 4*5)
	ToBatchLast(src, dst, 4, 5)
	if dst[0] != 1 || dst[1] != 5 || dst[2] != 9 || dst[3] != 0 || dst[5] != 2 || dst[19] != 0 || dst[17] != 12 {
		t.Fatalf("batch-last layout %v", dst)
	}
	back := make([]float32, 12)
	FromBatchLast(dst, back, 4, 5)
	for i := range src {
		if back[i] != src[i] {
			t.Fatalf("round trip %v", back)
		}
	}
}
