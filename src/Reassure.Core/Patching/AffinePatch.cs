namespace Reassure.Patching;

/// <summary>
/// An affine correction p(x) = C x + d of the network output (method.md §3). C is row-major <c>[m, n]</c>
/// and null when it is zero (the constant shift that the fast form gives for classification).
/// </summary>
public sealed class AffinePatch
{
    /// <summary>Creates a patch.</summary>
    public AffinePatch(int inputs, double[]? c, double[] d)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (c is not null && c.Length != inputs * d.Length) throw new ArgumentException($"C must be [{d.Length}, {inputs}].", nameof(c));
        Inputs = inputs;
        C = c is not null && c.All(v => v == 0) ? null : c;
        D = d;
    }

    /// <summary>Input width n.</summary>
    public int Inputs { get; }

    /// <summary>Output width m.</summary>
    public int Outputs => D.Length;

    /// <summary>C, row-major <c>[m, n]</c>, or null for zero.</summary>
    public double[]? C { get; }

    /// <summary>d, <c>[m]</c>.</summary>
    public double[] D { get; }

    /// <summary>Whether C = 0 and d = 0.</summary>
    public bool IsZero => C is null && D.All(v => v == 0);

    /// <summary>The zero patch.</summary>
    public static AffinePatch Zero(int inputs, int outputs) => new(inputs, null, new double[outputs]);

    /// <summary>p(x) into <paramref name="p"/> (<c>[m]</c>).</summary>
    public void Evaluate(ReadOnlySpan<double> x, Span<double> p)
    {
        for (int o = 0; o < D.Length; o++)
        {
            p[o] = D[o] + (C is null ? 0 : Networks.Blas.Dot(C.AsSpan(o * Inputs, Inputs), x));
        }
    }

    /// <summary>this - other.</summary>
    public AffinePatch Minus(AffinePatch other)
    {
        var d = new double[D.Length];
        for (int o = 0; o < d.Length; o++) d[o] = D[o] - other.D[o];
        double[]? c = null;
        if (C is not null || other.C is not null)
        {
            c = new double[Outputs * Inputs];
            for (int k = 0; k < c.Length; k++) c[k] = (C?[k] ?? 0) - (other.C?[k] ?? 0);
        }
        return new AffinePatch(Inputs, c, d);
    }

    /// <summary>
    /// K_p >= max over the box of |p_i(x)|, per output (method.md §5):
    /// K_i = sum_j max(|C_ij lo_j|, |C_ij hi_j|) + |d_i|.
    /// </summary>
    public double[] BoundOver(Networks.InputBox box)
    {
        var k = new double[Outputs];
        for (int o = 0; o < Outputs; o++)
        {
            double s = Math.Abs(D[o]);
            if (C is not null)
            {
                for (int j = 0; j < Inputs; j++)
                {
                    double c = C[o * Inputs + j];
                    s += Math.Max(Math.Abs(c * box.Lower[j]), Math.Abs(c * box.Upper[j]));
                }
            }
            k[o] = s;
        }
        return k;
    }
}
