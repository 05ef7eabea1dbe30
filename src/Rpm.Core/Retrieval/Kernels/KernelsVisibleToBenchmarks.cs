using System.Runtime.CompilerServices;

// The benchmarks force each kernel path and measure the recall of the int8 scores alone (before the exact re-score),
// which only internal entry points expose.
[assembly: InternalsVisibleTo("Rpm.Benchmarks")]
