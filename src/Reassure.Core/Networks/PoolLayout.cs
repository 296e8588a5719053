namespace Reassure.Networks;

/// <summary>
/// Where a network's max pools are, in the flat hidden index (method.md §12): window o (numbered over all pooled layers
/// in order) holds the neurons <c>Member[Start[o] .. Start[o+1])</c> (flat hidden indices, ascending). The winner of a
/// window at a point is the entry with the largest pre-activation z (ties: the lowest index). Since relu(max z) =
/// max relu(z), the pooled value is relu(z_winner): with the winners fixed, a max pool is the linear selection of the
/// winners' ReLU outputs, and the region adds z_k &lt;= z_w for every other entry k of a window whose winner w is active
/// (for an inactive winner every entry is inactive and the pooled value is 0; for an inactive k the row is implied by
/// the signs).
/// </summary>
public sealed class PoolLayout
{
    internal PoolLayout(IReadOnlyList<Layer> layers, int[] hiddenOffsets)
    {
        var start = new List<int> { 0 };
        var member = new List<int>();
        var layerOf = new List<int>();
        var windowOffsets = new int[layers.Count + 1];
        for (int l = 0; l < layers.Count; l++)
        {
            windowOffsets[l] = start.Count - 1;
            if (layers[l].MaxPool is not { } mp) continue;
            for (int o = 0; o < mp.Outputs; o++)
            {
                foreach (int k in mp.Window(o)) member.Add(hiddenOffsets[l] + k);
                start.Add(member.Count);
                layerOf.Add(l);
            }
        }
        windowOffsets[^1] = start.Count - 1;
        Start = start.ToArray();
        Member = member.ToArray();
        LayerOf = layerOf.ToArray();
        WindowOffsets = windowOffsets;
    }

    /// <summary>Number of windows over all pooled layers.</summary>
    public int WindowCount => Start.Length - 1;

    /// <summary>Window starts into <see cref="Member"/>, <c>[windows + 1]</c>.</summary>
    internal int[] Start { get; }

    /// <summary>Window entries as flat hidden indices.</summary>
    internal int[] Member { get; }

    /// <summary>The layer of each window.</summary>
    internal int[] LayerOf { get; }

    /// <summary>First window of layer l (length = layer count + 1).</summary>
    internal int[] WindowOffsets { get; }

    /// <summary>Entries of window o (flat hidden indices).</summary>
    public ReadOnlySpan<int> Window(int o) => Member.AsSpan(Start[o], Start[o + 1] - Start[o]);

    /// <summary>The winner of every window: the flat index of its largest pre-activation (ties: the lowest index).</summary>
    public int[] Winners(ReadOnlySpan<double> z)
    {
        var winners = new int[WindowCount];
        for (int o = 0; o < winners.Length; o++)
        {
            int best = Member[Start[o]];
            for (int e = Start[o] + 1; e < Start[o + 1]; e++)
                if (z[Member[e]] > z[best]) best = Member[e];
            winners[o] = best;
        }
        return winners;
    }

    /// <summary>max over window o of z.</summary>
    public double WindowMax(ReadOnlySpan<double> z, int o)
    {
        double m = double.NegativeInfinity;
        for (int e = Start[o]; e < Start[o + 1]; e++) m = Math.Max(m, z[Member[e]]);
        return m;
    }
}
