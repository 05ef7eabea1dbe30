using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Rpm.Benchmarks;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "cost")
        {
            return await Cost.CostReport.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && args[0] == "turn-reads")
        {
            return await Turns.TurnReadsReport.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && args[0] == "load")
        {
            return await Load.LoadRun.RunAsync(args[1..]).ConfigureAwait(false);
        }

        // ONNX Runtime's managed assembly (referenced through the MiniLM generator) is marked as not JIT-optimized, which
        // BenchmarkDotNet refuses for every class in this assembly; its work is native code, so the mark changes nothing.
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator));
        return 0;
    }
}
