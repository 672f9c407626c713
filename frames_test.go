package main

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

// The garbage collector's limit follows the frames held, plus the decode
// budget and slack, and a GOMEMLIMIT the operator set is left alone.
func TestMemoryLimitFollowsFramesHeld(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	var held int64 = 10 << 20
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { limitMemory(ctx, func() int64 { return held }, 100<<20); close(done) }()
	want := int64(10<<20 + 100<<20 + gcSlack)
	deadline := time.Now().Add(3 * time.Second)
	for debug.SetMemoryLimit(-1) != want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Errorf("memory limit = %d; want frames + budget + slack = %d", got, want)
	}

	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30)
	setMemoryLimit(0, 1)
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("with GOMEMLIMIT set, the limit became %d; want it left at 1GiB", got)
	}
}
