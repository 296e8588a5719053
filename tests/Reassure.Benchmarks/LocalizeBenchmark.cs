using System.Diagnostics;
using System.Globalization;
using Reassure.Causality;

namespace Reassure.Benchmarks;

/// <summary>
/// `localize [--rows 100] [--threads n] [--grid 16] [--naive-neurons 64|all]` (issue 17, item 1): seconds of
/// <see cref="CausalLocalizer.Localize"/> for all 512 hidden neurons of the MNIST network over its first misclassified
/// test images, against the naive baseline in the same run (one full forward pass per neuron, grid value and row, via
/// <see cref="CausalLocalizer.Intervene"/>, same threads). The naive run covers <c>--naive-neurons</c> neurons spread over
/// both layers (default 64; <c>all</c> for the 512) and is scaled to 512 neurons; its curves are checked against the batched ones.
/// </summary>
internal static class LocalizeBenchmark
{
    public static int Run(string[] args)
    {
        int rows = int.Parse(BenchmarkArgs.Option(args, "--rows", "100"), CultureInfo.InvariantCulture);
        int threads = int.Parse(BenchmarkArgs.Option(args, "--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        int grid = int.Parse(BenchmarkArgs.Option(args, "--grid", "16"), CultureInfo.InvariantCulture);
        string naiveText = BenchmarkArgs.Option(args, "--naive-neurons", "64");
        var net = SharedData.LoadMnistModel().Network;
        var (images, labels) = SharedData.LoadMnistTest();
        var outputs = net.EvaluateBatch(images);
        var wrong = Enumerable.Range(0, images.Length).Where(i => SharedData.ArgMax(outputs[i]) != labels[i]).Take(rows).ToArray();
        var x = wrong.Select(i => images[i]).ToArray();
        var y = wrong.Select(i => labels[i]).ToArray();
        var options = new LocalizationOptions { GridSteps = grid, MaxDegreeOfParallelism = threads };
        _ = CausalLocalizer.Localize(net, x.Take(5).ToArray(), y.Take(5).ToArray(), options); // warm-up (JIT)
        var clock = Stopwatch.StartNew();
        var result = CausalLocalizer.Localize(net, x, y, options);
        double fast = clock.Elapsed.TotalSeconds;
        int neurons = result.Ranked.Count;
        Console.WriteLine($"localize: {neurons} neurons x {x.Length} rows x {grid} grid values, {threads} threads: {fast:F3} s (baseline mean margin {result.BaselineMeanMargin:F4})");

        // Naive: a spread subset of the neurons (every stride-th neuron of each layer), one full forward pass each.
        var all = result.Layers.SelectMany(l => l.Neurons).ToArray();
        int count = naiveText == "all" ? all.Length : Math.Min(all.Length, int.Parse(naiveText, CultureInfo.InvariantCulture));
        var subset = Enumerable.Range(0, count).Select(k => all[(int)((long)k * all.Length / count)]).ToArray();
        var naiveMeans = new double[subset.Length][];
        clock.Restart();
        Parallel.For(0, subset.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, s =>
        {
            var e = subset[s];
            naiveMeans[s] = new double[e.Grid.Count];
            for (int k = 0; k < e.Grid.Count; k++)
            {
                double total = 0;
                for (int r = 0; r < x.Length; r++) total += CausalLocalizer.Margin(CausalLocalizer.Intervene(net, x[r], e.Layer, e.Neuron, e.Grid[k]), y[r]);
                naiveMeans[s][k] = total / x.Length;
            }
        });
        double naive = clock.Elapsed.TotalSeconds;
        double naiveAll = naive * all.Length / subset.Length;
        double maxDiff = 0;
        for (int s = 0; s < subset.Length; s++)
            for (int k = 0; k < naiveMeans[s].Length; k++) maxDiff = Math.Max(maxDiff, Math.Abs(naiveMeans[s][k] - subset[s].MeanMargins[k]));
        Console.WriteLine($"naive: {subset.Length} neurons in {naive:F3} s -> {naiveAll:F2} s for {all.Length} neurons{(subset.Length == all.Length ? "" : " (scaled)")}; "
            + $"ratio naive/batched {naiveAll / fast:F1}x; max |naive - batched| mean margin {maxDiff:E2}");
        foreach (var layer in result.Layers)
        {
            Console.WriteLine($"top 5 of layer {layer.Index} ({layer.Name}):");
            foreach (var e in layer.Ranked.Take(5))
                Console.WriteLine($"  {layer.Name}[{e.Neuron}] effect {e.Effect:F4} range [{e.ObservedMin:F3}, {e.ObservedMax:F3}]");
        }
        return 0;
    }
}
