using Reassure.Formats.Onnx;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>screen-groups [--points 100] [--noise 0] [--noisy-data]</c>: how many of the 10 000 MNIST test images (or their
/// noisy copies) the first level of the screen (<see cref="ScreenedGate"/>) leaves open under several groupings of the
/// patches: farthest-first (<see cref="ScreenedGate.Groups"/>), merging by common-set size, by the weight
/// sum f_j (<see cref="ScreenedGate.MergedGroups"/>), sqrt f_j and f_j^2 (in double: the export's float32 screen is a
/// lower bound of these).
/// </summary>
internal static class ScreenGroups
{
    public static int Run(string[] args)
    {
        var (points, noise, _, file) = BenchmarkArgs.SavedRepair(args, defaultRounds: 1);
        var model = SharedData.LoadMnistModel();
        var net = model.Network;
        var (xs, _) = SharedData.LoadMnistTest();
        if (args.Contains("--noisy-data")) xs = OrtRatio.Noisy(xs, noise);
        var repaired = OrtRatio.LoadOrRepair(model, points, file, noise).Repaired;
        var patches = repaired.Patches;
        int pCount = patches.Count, w1 = net.Layers[0].Outputs, h = net.HiddenCount;
        var inactive = patches.Select(p => Enumerable.Range(0, w1).Where(j => !p.Support.Pattern![j]).ToArray()).ToArray();
        var inactive2 = patches.Select(p => Enumerable.Range(w1, h - w1).Where(j => !p.Support.Pattern![j]).Select(j => j - w1).ToArray()).ToArray();
        var z = new double[h];
        var y = new double[net.OutputSize];
        var a1 = new double[xs.Length][];
        var a2 = new double[xs.Length][];
        for (int i = 0; i < xs.Length; i++)
        {
            net.Evaluate(xs[i], y, z);
            a1[i] = z.Take(w1).Select(v => Math.Max(v, 0)).ToArray();
            a2[i] = z.Skip(w1).Select(v => Math.Max(v, 0)).ToArray();
        }
        int Open(List<List<int>> groups, int[][] sets, double[][] a)
        {
            var common = groups.Select(g => g.Skip(1).Aggregate(sets[g[0]].AsEnumerable(), (s, p) => s.Intersect(sets[p])).ToArray()).ToArray();
            int open = 0;
            foreach (var row in a)
                if (common.Any(c => c.Sum(j => row[j]) < 1 + 1.0 / 1024)) open++;
            return open;
        }
        var f = new double[w1];
        foreach (var set in inactive) foreach (int j in set) f[j] += 1;
        var active1 = f.Select(v => 1 - v / pCount).ToArray(); // fraction of patterns active at j
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var merged = ScreenedGate.MergedGroups(inactive, w1, ScreenedGate.GroupCount(pCount));
            Console.WriteLine($"MergedGroups: {merged.Count} groups of {merged.Min(g => g.Count)}-{merged.Max(g => g.Count)} patches in {clock.Elapsed.TotalMilliseconds:F0} ms");
            var old = ScreenedGate.Groups(inactive, w1, ScreenedGate.GroupCount(pCount));
            Console.WriteLine($"first 256 images (the single-image cycle): merged groups leave {Open(merged, inactive, a1[..256])} open, farthest-first {Open(old, inactive, a1[..256])}, in some support {xs.Take(256).Count(x => repaired.InAnySupport(x))}; first 1024: {Open(merged, inactive, a1[..1024])} / {Open(old, inactive, a1[..1024])}");
        }
        Console.WriteLine($"{pCount} patches; mean common-set size by grouping; open of {xs.Length}");
        foreach (int k in new[] { 20, 32, 64 })
        {
            var cur = ScreenedGate.Groups(inactive, w1, k);
            var agg = Agglomerative(inactive, w1, k, null);
            var aggW = Agglomerative(inactive, w1, k, active1);
            var aggS = Agglomerative(inactive, w1, k, active1.Select(Math.Sqrt).ToArray());
            var aggQ = Agglomerative(inactive, w1, k, active1.Select(v => v * v).ToArray());
            var merged = ScreenedGate.MergedGroups(inactive, w1, k);
            Console.WriteLine($"  {k} groups: current {Open(cur, inactive, a1)}, agglomerative {Open(agg, inactive, a1)}, weighted f {Open(aggW, inactive, a1)}, sqrt f {Open(aggS, inactive, a1)}, f^2 {Open(aggQ, inactive, a1)}, MergedGroups {Open(merged, inactive, a1)}");
        }
        return 0;
    }

    /// <summary>Groups by merging, each time, the two groups whose common inactive set is largest (weighted by w when given).</summary>
    internal static List<List<int>> Agglomerative(int[][] inactive, int w1, int k, double[]? w)
    {
        int count = inactive.Length, words = (w1 + 63) / 64;
        var bits = new List<ulong[]>();
        var groups = new List<List<int>>();
        for (int p = 0; p < count; p++)
        {
            var v = new ulong[words];
            foreach (int j in inactive[p]) v[j >> 6] |= 1UL << (j & 63);
            bits.Add(v);
            groups.Add([p]);
        }
        double Weight(ulong[] a, ulong[] b)
        {
            double s = 0;
            for (int q = 0; q < words; q++)
            {
                ulong m = a[q] & b[q];
                if (w is null) s += System.Numerics.BitOperations.PopCount(m);
                else while (m != 0) { int t = System.Numerics.BitOperations.TrailingZeroCount(m); s += w[q * 64 + t]; m &= m - 1; }
            }
            return s;
        }
        var alive = Enumerable.Range(0, count).ToList();
        var score = new double[count, count];
        for (int a = 0; a < count; a++) for (int b = a + 1; b < count; b++) score[a, b] = Weight(bits[a], bits[b]);
        while (alive.Count > k)
        {
            int ba = -1, bb = -1;
            double best = double.NegativeInfinity;
            for (int x = 0; x < alive.Count; x++)
                for (int yy = x + 1; yy < alive.Count; yy++)
                {
                    int a = alive[x], b = alive[yy];
                    if (score[a, b] > best) { best = score[a, b]; ba = a; bb = b; }
                }
            for (int q = 0; q < words; q++) bits[ba][q] &= bits[bb][q];
            groups[ba].AddRange(groups[bb]);
            alive.Remove(bb);
            foreach (int c in alive) if (c != ba) { double s = Weight(bits[ba], bits[c]); if (c < ba) score[c, ba] = s; else score[ba, c] = s; }
        }
        return alive.Select(a => groups[a]).ToList();
    }
}
