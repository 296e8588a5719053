namespace Reassure.Networks;

/// <summary>
/// The linear part M of one affine layer z = M a + b (method.md §1), the seam through which regions, LPs, bounds,
/// certificates and the exporter reach a layer's weights without building a dense <c>[out, in]</c> matrix where the
/// structure allows it (a convolution has a few non-zeros per row). Two kinds: <see cref="DenseMap"/> (Gemm, MatMul)
/// and <see cref="SparseMap"/> (Conv, AveragePool, Pad, Transpose, BatchNormalization and their compositions, held as
/// compressed rows with exactly the structural non-zeros).
/// </summary>
public abstract class LinearMap
{
    /// <summary>Input width.</summary>
    public abstract int Inputs { get; }

    /// <summary>Output width.</summary>
    public abstract int Outputs { get; }

    /// <summary>What the map is, for <c>inspect</c> (e.g. "dense", "conv 1x28x28 -> 32x27x27 k2x2 s1").</summary>
    public abstract string Kind { get; }

    /// <summary>Number of stored weights (structural non-zeros for a sparse map).</summary>
    public abstract long StoredWeights { get; }

    /// <summary>Largest number of stored entries in one row (size of a buffer for <see cref="RowEntries"/>).</summary>
    public abstract int MaxRowEntries { get; }

    /// <summary>y = M x (<c>[out]</c> from <c>[in]</c>).</summary>
    public abstract void Apply(ReadOnlySpan<double> x, Span<double> y);

    /// <summary>v = M^T u (<c>[in]</c> from <c>[out]</c>).</summary>
    public abstract void ApplyTranspose(ReadOnlySpan<double> u, Span<double> v);

    /// <summary>v = |M|^T |u| (<c>[in]</c> from <c>[out]</c>): the sizes of the terms of M^T u, for rounding bounds.</summary>
    public abstract void ApplyAbsTranspose(ReadOnlySpan<double> u, Span<double> v);

    /// <summary>
    /// Interval image of a box: for lo &lt;= a &lt;= hi, yLo &lt;= M a &lt;= yHi with each weight taking the end its sign asks
    /// for (the interval bound propagation of <see cref="LinearBounds"/>, in double).
    /// </summary>
    public abstract void ApplyInterval(ReadOnlySpan<double> lo, ReadOnlySpan<double> hi, Span<double> yLo, Span<double> yHi);

    /// <summary>The stored entries of row o: writes column indices and weights, returns their number.</summary>
    public abstract int RowEntries(int o, Span<int> columns, Span<double> weights);

    /// <summary>dst += scale M[o, :] (<c>[in]</c>).</summary>
    public abstract void AddRow(int o, double scale, Span<double> dst);

    /// <summary>M as a dense row-major <c>[out, in]</c> array (a fresh array, except <see cref="DenseMap"/>'s own).</summary>
    public abstract double[] ToDense();

    /// <summary>The dense weights when this is a <see cref="DenseMap"/>, else null.</summary>
    public double[]? DenseWeights => (this as DenseMap)?.Weights;

    /// <summary>
    /// outer ∘ inner (apply <paramref name="inner"/> first): sparse ∘ sparse stays sparse (the product of the compressed
    /// rows), anything with a dense side becomes dense (each row of the result is inner^T applied to the outer row).
    /// </summary>
    public static LinearMap Compose(LinearMap outer, LinearMap inner)
    {
        ArgumentNullException.ThrowIfNull(outer);
        ArgumentNullException.ThrowIfNull(inner);
        if (outer.Inputs != inner.Outputs) throw new ArgumentException($"Cannot compose: the outer map takes {outer.Inputs} inputs, the inner gives {inner.Outputs}.");
        if (outer is SparseMap so && inner is SparseMap si) return SparseMap.Multiply(so, si);
        int m = outer.Outputs, k = inner.Outputs, n = inner.Inputs;
        var dense = new double[(long)m * n];
        var cols = new int[outer.MaxRowEntries];
        var vals = new double[outer.MaxRowEntries];
        for (int o = 0; o < m; o++)
        {
            var row = dense.AsSpan((int)((long)o * n), n);
            int count = outer.RowEntries(o, cols, vals);
            for (int e = 0; e < count; e++) if (vals[e] != 0) inner.AddRow(cols[e], vals[e], row);
        }
        return new DenseMap(n, m, dense);
    }
}
