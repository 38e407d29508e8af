package sim

import "slices"

// Shrink looks for a shorter run that fails like r (a failure of the same
// class), making at most runs runs, and returns the smallest it found (r
// itself if none): fewer steps (the run stopped at its failure, which the
// same prefix reproduces), fewer nodes, fewer kinds of fault and workload,
// and fewer faults (Options.Skip, found by delta debugging over the faults
// injected). A run is smaller when it fails no later, with no more nodes
// and no more faults, kinds of fault or steps, and is smaller in one.
func Shrink(r Result, runs int) Result {
	if r.Failure == nil {
		return r
	}
	sh := shrinker{best: r, left: runs}
	for progress := true; progress && sh.left > 0; {
		progress = sh.truncate()
		progress = sh.fewerNodes() || progress
		progress = sh.fewerKinds() || progress
		progress = sh.fewerFaults() || progress
	}
	return sh.best
}

// shrinker holds the smallest failing run found so far.
type shrinker struct {
	best Result
	left int
}

// try runs o and keeps it if it fails alike and is smaller.
func (sh *shrinker) try(o Options) bool {
	if sh.left <= 0 {
		return false
	}
	sh.left--
	o.Trace = nil
	res, err := Run(o)
	if err != nil || res.Failure == nil || res.Failure.Class != sh.best.Failure.Class || !smaller(res, sh.best) {
		return false
	}
	sh.best = res
	return true
}

// smaller reports whether a is a smaller failing run than b: no larger in
// any of the measures of size, and smaller in one.
func smaller(a, b Result) bool {
	as, bs := size(a), size(b)
	less := false
	for i := range as {
		if as[i] > bs[i] {
			return false
		}
		less = less || as[i] < bs[i]
	}
	return less
}

// size measures a failing run: the step it failed at, its length, its
// nodes, the faults injected, and the kinds of fault and workload on.
func size(r Result) [5]uint64 {
	o := r.Options
	kinds := 0
	for _, p := range kindRates(&o) {
		if *p != 0 {
			kinds++
		}
	}
	return [5]uint64{r.Failure.Step, uint64(o.Steps), uint64(o.Nodes + o.Spares), uint64(len(r.Faults)), uint64(kinds)}
}

// truncate stops the run at its failure, or, for a failure found at the
// end, tries runs half and three quarters as long.
func (sh *shrinker) truncate() bool {
	o := sh.best.Options
	if f := sh.best.Failure.Step; f < uint64(o.Steps) {
		o.Steps = int(f)
		return sh.try(o)
	}
	for _, k := range []int{2, 4} {
		o := sh.best.Options
		o.Steps = o.Steps * (k - 1) / k
		if o.Steps > 0 && sh.try(o) {
			return true
		}
	}
	return false
}

// fewerNodes tries smaller clusters, and no spares.
func (sh *shrinker) fewerNodes() bool {
	progress := false
	for _, n := range []int{1, 3, 5} {
		if o := sh.best.Options; n < o.Nodes {
			o.Nodes = n
			if sh.try(o) {
				progress = true
				break
			}
		}
	}
	if o := sh.best.Options; o.Spares > 0 {
		o.Spares = 0
		o.Faults.ConfChange = 0
		progress = sh.try(o) || progress
	}
	return progress
}

// fewerKinds tries turning off each kind of fault and each optional part
// of the workload.
func (sh *shrinker) fewerKinds() bool {
	progress := false
	for i := 0; ; i++ {
		o := sh.best.Options
		p := kindRates(&o)
		if i >= len(p) {
			return progress
		}
		if *p[i] != 0 {
			*p[i] = 0
			progress = sh.try(o) || progress
		}
	}
}

// kindRates returns the rates that fewerKinds turns off.
func kindRates(o *Options) []*Probability {
	f, w := &o.Faults, &o.Workload
	return []*Probability{&f.ConfChange, &f.Transfer, &f.ForgetLeader, &f.Campaign, &f.DiskStall, &f.Pause, &f.LoseLog, &f.LoseOverwrite,
		&f.Partition, &f.Crash,
		&f.Drop, &f.Duplicate, &f.Reorder, &w.ReadShare, &w.LocalReadShare, &w.LargeWrites, &w.Compact}
}

// fewerFaults skips the faults injected, by delta debugging: chunks of
// half, then quarters, and so on, of the faults still injected.
func (sh *shrinker) fewerFaults() bool {
	progress := false
	for n := 2; sh.left > 0; {
		faults := sh.best.Faults
		if len(faults) == 0 || n > 2*len(faults) {
			return progress
		}
		chunk := max(1, (len(faults)+n-1)/n)
		cut := false
		for lo := 0; lo < len(faults) && !cut; lo += chunk {
			o := sh.best.Options
			o.Skip = append(slices.Clone(o.Skip), faults[lo:min(lo+chunk, len(faults))]...)
			slices.Sort(o.Skip)
			cut = sh.try(o)
		}
		if cut {
			progress, n = true, max(n-1, 2)
		} else {
			n *= 2
		}
	}
	return progress
}
