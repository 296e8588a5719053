using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Patching;

/// <summary>
/// The repaired network f(x) + sum_l h'_l(x) of method.md §5:
/// <code>
///   G_l(x)  = max(g_l(x), ..., g_N(x))                                     (suffix maximum of the supports)
///   h'_l(x) = relu(p'_l(x) + K'_l G_l(x) - K'_l) - relu(-p'_l(x) + K'_l G_l(x) - K'_l)
/// </code>
/// Inside R_j the terms l &lt;= j telescope to p_j; where every G_l = 0 each h'_l is exactly 0, and the output is
/// returned untouched (bit-identical to the original, locality).
/// </summary>
public sealed class RepairedNetwork
{
    /// <summary>Creates a repaired network from ordered patches with their supports.</summary>
    public RepairedNetwork(Network original, InputBox domain, IReadOnlyList<(LinearRegion Region, AffinePatch Patch, Support Support, double Norm)> patches)
    {
        Original = original;
        Domain = domain;
        var list = new List<GatedPatch>(patches.Count);
        var previous = AffinePatch.Zero(original.InputSize, original.OutputSize);
        foreach (var (region, patch, support, norm) in patches)
        {
            var diff = patch.Minus(previous);
            list.Add(new GatedPatch(region, patch, diff, diff.BoundOver(domain), support, norm));
            previous = patch;
        }
        Patches = list;
    }

    private RepairedNetwork(Network original, InputBox domain, IReadOnlyList<GatedPatch> patches)
    {
        Original = original;
        Domain = domain;
        Patches = patches;
    }

    /// <summary>The original network f.</summary>
    public Network Original { get; }

    /// <summary>The domain the patch bounds hold on.</summary>
    public InputBox Domain { get; }

    /// <summary>The patches in order.</summary>
    public IReadOnlyList<GatedPatch> Patches { get; }

    /// <summary>A copy with patch l's gamma changed.</summary>
    public RepairedNetwork WithGamma(int patch, double gamma)
    {
        var list = Patches.ToArray();
        list[patch] = list[patch].WithSupport(list[patch].Support.WithGamma(gamma));
        return new RepairedNetwork(Original, Domain, list);
    }

    /// <summary>The repaired output at x.</summary>
    public double[] Evaluate(ReadOnlySpan<double> x) => Evaluate(x, out _);

    /// <summary>The repaired output at x and the supports g_l(x) (<c>[N]</c>).</summary>
    public double[] Evaluate(ReadOnlySpan<double> x, out double[] gates)
    {
        var y = new double[Original.OutputSize];
        var z = new double[Original.HiddenCount];
        Original.Evaluate(x, y, z);
        gates = new double[Patches.Count];
        for (int l = 0; l < Patches.Count; l++) gates[l] = Patches[l].Support.Gate(x, z);
        double suffix = 0;
        var p = new double[y.Length];
        var sum = new double[y.Length];
        bool any = false;
        for (int l = Patches.Count - 1; l >= 0; l--)
        {
            suffix = Math.Max(suffix, gates[l]);
            if (suffix == 0) continue;
            var gp = Patches[l];
            gp.Difference.Evaluate(x, p);
            for (int o = 0; o < y.Length; o++)
            {
                double k = gp.Bound[o];
                double shift = k * suffix - k;
                double h = Relu(p[o] + shift) - Relu(-p[o] + shift);
                if (h != 0) { sum[o] += h; any = true; }
            }
        }
        if (any) for (int o = 0; o < y.Length; o++) y[o] += sum[o];
        return y;
    }

    /// <summary>Whether some support is non-zero at x (x is inside or near a patched region).</summary>
    public bool InAnySupport(ReadOnlySpan<double> x)
    {
        var z = Original.PreActivations(x);
        foreach (var gp in Patches) if (gp.Support.Gate(x, z) > 0) return true;
        return false;
    }

    /// <summary>Evaluates a batch in parallel, rows <c>[N, n]</c>.</summary>
    public double[][] EvaluateBatch(IReadOnlyList<double[]> inputs)
    {
        var outputs = new double[inputs.Count][];
        Parallel.For(0, inputs.Count, i => outputs[i] = Evaluate(inputs[i]));
        return outputs;
    }

    /// <summary>Parameters the patches add to the network (C, d, K and the support rows).</summary>
    public long AddedParameters => Patches.Sum(p =>
        (long)(p.Difference.C?.Length ?? 0) + p.Difference.D.Length + p.Bound.Length + 1
        + (p.Support.Pattern?.Count ?? 0) + p.Support.Rows.Sum(r => (long)r.A.Length + 1));

    private static double Relu(double v) => v > 0 ? v : 0;
}
