namespace Reassure.Networks;

/// <summary>A dense linear map, row-major weights <c>[out, in]</c> (Gemm, MatMul).</summary>
public sealed class DenseMap : LinearMap
{
    private readonly int _in, _out;

    /// <summary>Creates the map of row-major <paramref name="weights"/> <c>[out, in]</c> (kept, not copied).</summary>
    public DenseMap(int inputs, int outputs, double[] weights)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.LongLength != (long)inputs * outputs)
            throw new ArgumentException($"Expected {(long)outputs * inputs} weights ([{outputs}, {inputs}]), got {weights.Length}.", nameof(weights));
        _in = inputs;
        _out = outputs;
        Weights = weights;
    }

    /// <summary>Row-major weights <c>[out, in]</c>. Treat as read-only.</summary>
    public double[] Weights { get; }

    /// <inheritdoc />
    public override int Inputs => _in;

    /// <inheritdoc />
    public override int Outputs => _out;

    /// <inheritdoc />
    public override string Kind => "dense";

    /// <inheritdoc />
    public override long StoredWeights => (long)_in * _out;

    /// <inheritdoc />
    public override int MaxRowEntries => _in;

    /// <inheritdoc />
    public override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        var w = Weights.AsSpan();
        for (int o = 0; o < _out; o++) y[o] = Blas.Dot(w.Slice(o * _in, _in), x);
    }

    /// <inheritdoc />
    public override void ApplyTranspose(ReadOnlySpan<double> u, Span<double> v)
    {
        v[.._in].Clear();
        for (int o = 0; o < _out; o++) if (u[o] != 0) Blas.Axpy(u[o], Weights.AsSpan(o * _in, _in), v[.._in]);
    }

    /// <inheritdoc />
    public override void ApplyAbsTranspose(ReadOnlySpan<double> u, Span<double> v)
    {
        v[.._in].Clear();
        for (int o = 0; o < _out; o++)
        {
            double a = Math.Abs(u[o]);
            if (a == 0) continue;
            var row = Weights.AsSpan(o * _in, _in);
            for (int i = 0; i < _in; i++) v[i] += a * Math.Abs(row[i]);
        }
    }

    /// <inheritdoc />
    public override void ApplyInterval(ReadOnlySpan<double> lo, ReadOnlySpan<double> hi, Span<double> yLo, Span<double> yHi)
    {
        for (int o = 0; o < _out; o++)
        {
            double l = 0, h = 0;
            var row = Weights.AsSpan(o * _in, _in);
            for (int i = 0; i < _in; i++)
            {
                double w = row[i];
                if (w == 0) continue;
                if (w > 0) { l += w * lo[i]; h += w * hi[i]; } else { l += w * hi[i]; h += w * lo[i]; }
            }
            yLo[o] = l;
            yHi[o] = h;
        }
    }

    /// <inheritdoc />
    public override int RowEntries(int o, Span<int> columns, Span<double> weights)
    {
        var row = Weights.AsSpan(o * _in, _in);
        for (int i = 0; i < _in; i++) { columns[i] = i; weights[i] = row[i]; }
        return _in;
    }

    /// <inheritdoc />
    public override void AddRow(int o, double scale, Span<double> dst) => Blas.Axpy(scale, Weights.AsSpan(o * _in, _in), dst[.._in]);

    /// <inheritdoc />
    public override double[] ToDense() => Weights;
}
