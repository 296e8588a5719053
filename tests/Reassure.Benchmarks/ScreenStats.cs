using System.Globalization;
using Reassure.Patching;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>screen-stats [--points 100] [--noise 0] [--file path]</c>: how many of the 10 000 MNIST test images a screen of
/// the gates leaves open, for several screens (in double; the export's screen is a float32 lower bound of these).
/// A gate is 0 iff gamma sum_j relu(-s'_j z_j) >= 1 (docs/method.md); the screens below keep only the terms of
/// neurons the pattern wants inactive, gamma a_j with a = relu(z), over a set of neurons.
/// </summary>
internal static class ScreenStats
{
    public static int Run(string[] args)
    {
        var (points, noise, _, file) = BenchmarkArgs.SavedRepair(args, defaultRounds: 1);
        var model = SharedData.LoadMnistModel();
        var net = model.Network;
        var (xs, _) = SharedData.LoadMnistTest();
        var repaired = OrtRatio.LoadOrRepair(model, points, file, noise).Repaired;
        var patches = repaired.Patches;
        int pCount = patches.Count, h = net.HiddenCount;
        int w1 = net.Layers[0].Outputs;
        Console.WriteLine($"{pCount} patches, gammas {string.Join(", ", patches.Select(p => p.Support.Gamma).Distinct().Take(10).Select(g => g.ToString("G4", CultureInfo.InvariantCulture)))}, rows {patches.Max(p => p.Support.Rows.Count)}");
        // f_j: fraction of patterns active at j.
        var f = new double[h];
        foreach (var p in patches) for (int j = 0; j < h; j++) if (p.Support.Pattern![j]) f[j] += 1.0 / pCount;
        var screens = new List<(string Label, int[][] Sets)>
        {
            ("all neurons (z and a: exact closing test)", null!),
            ("layer 1, a only", Same(Enumerable.Range(0, w1).ToArray(), pCount)),
            ("layer 2, a only", Same(Enumerable.Range(w1, h - w1).ToArray(), pCount)),
            ("both layers, a only", Same(Enumerable.Range(0, h).ToArray(), pCount)),
        };
        foreach (int k in new[] { 1, 4, 16, 32, 64, 128, Reassure.Formats.Onnx.ScreenedGate.GroupCount(pCount) }.Distinct())
        {
            // Groups of patches: each patch screened by the neurons inactive in every pattern of its group.
            var groups = Reassure.Formats.Onnx.ScreenedGate.Groups(patches.Select(p => Enumerable.Range(0, w1).Where(j => !p.Support.Pattern![j]).ToArray()).ToArray(), w1, k);
            var sets = new int[pCount][];
            foreach (var grp in groups)
            {
                var common = Enumerable.Range(0, w1).Where(j => grp.All(p => !patches[p].Support.Pattern![j])).ToArray();
                foreach (int p in grp) sets[p] = common;
            }
            screens.Add(($"layer 1, {k} groups (neurons inactive in all the group's patterns; {groups.Min(g => g.Count)}-{groups.Max(g => g.Count)} patches a group)", sets));
        }
        var open = new int[screens.Count];
        int exactOpen = 0;
        var z = new double[h];
        var y = new double[net.OutputSize];
        foreach (var x in xs)
        {
            net.Evaluate(x, y, z);
            bool anyGate = false;
            foreach (var p in patches) if (p.Support.Gate(x, z) > 0) { anyGate = true; break; }
            if (anyGate) exactOpen++;
            for (int s = 0; s < screens.Count; s++)
            {
                bool isOpen = false;
                for (int p = 0; p < pCount && !isOpen; p++)
                {
                    var pattern = patches[p].Support.Pattern!;
                    double gamma = patches[p].Support.Gamma, sum = 0;
                    if (screens[s].Sets is null)
                    {
                        for (int j = 0; j < h; j++) sum += Math.Max(pattern[j] ? -z[j] : z[j], 0);
                    }
                    else
                    {
                        foreach (int j in screens[s].Sets[p]) if (!pattern[j]) sum += Math.Max(z[j], 0);
                    }
                    if (gamma * sum < 1) isOpen = true;
                }
                if (isOpen) open[s]++;
            }
        }
        Console.WriteLine($"exact gates: {exactOpen} / {xs.Length} images have a non-zero gate");
        for (int s = 0; s < screens.Count; s++) Console.WriteLine($"  {screens[s].Label}: {open[s]} open");
        return 0;
    }

    private static int[][] Same(int[] set, int count) => Enumerable.Range(0, count).Select(_ => set).ToArray();
}
