using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Composition of a constant linear map with an affine value: for per-sample t = M u + c viewed as
/// <c>[groups, K]</c>, the result r[g, n] = sum_k W[n, k] t[g, k] is again affine, with
/// M'[(g,n), :] = sum_k W[n,k] M[(g,k), :] and c'[(g,n)] = sum_k W[n,k] c[(g,k)]. When M is the identity and there is one
/// group, M' = W exactly (no rounding), which keeps imported weights bit-identical to the file.
/// </summary>
internal static class LinearMaps
{
    /// <summary>Applies W (<c>[n, k]</c> row-major) to the last axis of <paramref name="a"/> (whose last dim is k).</summary>
    public static AffineValue Apply(AffineValue a, double[] w, int k, int n, int[] resultShape, string? weightName)
    {
        int groups = a.Count / k;
        int width = a.Width;
        var offset = new double[groups * n];
        double[] matrix;
        if (a.Map is null && groups == 1)
        {
            matrix = (double[])w.Clone();
        }
        else if (groups == 1)
        {
            // W ∘ M: each row of the result is M^T w_n (M a convolution, pool or index map keeps this cheap).
            var composed = LinearMap.Compose(new DenseMap(k, n, w), a.Map!);
            var off = new double[n];
            for (int o = 0; o < n; o++)
            {
                double s = 0;
                for (int i = 0; i < k; i++) s += w[o * k + i] * a.Offset[i];
                off[o] = s;
            }
            return new AffineValue(resultShape, composed, off, a.Base, width, weightName, null);
        }
        else
        {
            matrix = new double[(long)groups * n * width];
            for (int g = 0; g < groups; g++)
            {
                for (int o = 0; o < n; o++)
                {
                    var row = matrix.AsSpan((int)((long)(g * n + o) * width), width);
                    for (int i = 0; i < k; i++)
                    {
                        double wi = w[o * k + i];
                        if (wi != 0) a.AddRow(g * k + i, wi, row);
                    }
                }
            }
        }
        for (int g = 0; g < groups; g++)
        {
            for (int o = 0; o < n; o++)
            {
                double s = 0;
                for (int i = 0; i < k; i++) s += w[o * k + i] * a.Offset[g * k + i];
                offset[g * n + o] = s;
            }
        }
        return new AffineValue(resultShape, matrix, offset, a.Base, width, weightName, null);
    }

    /// <summary>
    /// c + k, keeping the bits of k when c is zero: a bias added to an offset that is still zero is the bias itself, so
    /// a -0.0 in the file stays -0.0 (IEEE gives +0.0 + -0.0 = +0.0). The network read back must re-export to the same
    /// bytes, or the repaired-file check (RSR1006) would report a file that was never changed.
    /// </summary>
    public static double AddToOffset(double c, double k) => c == 0 ? k : c + k;
}
