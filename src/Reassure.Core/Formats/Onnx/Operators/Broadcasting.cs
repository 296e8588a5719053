namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Multidirectional (numpy-style) broadcasting of two shapes: dims are aligned on the right; each pair must be equal or
/// one of them 1. Gives the result shape and, for each result element (row-major), the element of each operand.
/// </summary>
internal static class Broadcasting
{
    /// <summary>The broadcast of <paramref name="a"/> and <paramref name="b"/>, or null when they do not fit.</summary>
    public static (long[] Shape, int[] IndexA, int[] IndexB)? Broadcast(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            long db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1) return null;
            shape[i] = da == 1 ? db : da;
        }
        int count = checked((int)SymbolicValue.Product(shape));
        var ia = new int[count];
        var ib = new int[count];
        var sa = Strides(a, rank);
        var sb = Strides(b, rank);
        var idx = new long[rank];
        for (int e = 0; e < count; e++)
        {
            long oa = 0, ob = 0;
            for (int d = 0; d < rank; d++) { oa += idx[d] * sa[d]; ob += idx[d] * sb[d]; }
            ia[e] = (int)oa;
            ib[e] = (int)ob;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return (shape, ia, ib);
    }

    /// <summary>Row-major strides of <paramref name="dims"/> right-aligned to <paramref name="rank"/>; 0 on broadcast (size-1 or missing) dims.</summary>
    private static long[] Strides(long[] dims, int rank)
    {
        var s = new long[rank];
        long stride = 1;
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            int r = i + rank - dims.Length;
            s[r] = dims[i] == 1 ? 0 : stride;
            stride *= dims[i];
        }
        return s;
    }

    /// <summary>Whether <paramref name="map"/> is 0, 1, 2, ... (no element is repeated or moved).</summary>
    public static bool IsIdentity(int[] map, int count)
    {
        if (map.Length != count) return false;
        for (int i = 0; i < map.Length; i++) if (map[i] != i) return false;
        return true;
    }

    /// <summary>Full shape of an affine tensor with the batch dim counted as 1.</summary>
    public static long[] FullShape(AffineValue a) => [1, .. a.Shape.Select(d => (long)d)];
}
