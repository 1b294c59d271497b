// The namespace lab and the daemon tests measure timings on two shared cores: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
