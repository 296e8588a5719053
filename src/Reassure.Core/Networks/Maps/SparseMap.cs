namespace Reassure.Networks;

/// <summary>
/// A linear map held as compressed rows (CSR): row o has the entries <c>columns[start[o] .. start[o+1])</c> with their
/// weights. Used for the structured affine operators (method.md §12): a convolution (<see cref="Conv2d"/>), an average
/// pool (<see cref="AveragePool"/>), an index map (<see cref="Gather"/>: Pad, Transpose, a per-element scale such as a
/// BatchNormalization folded in inference mode) and compositions of these (<see cref="Multiply"/>). Only the structural
/// non-zeros are stored: a 2x2 convolution of 28x28 into 32 channels stores 4 weights per row (93 312) where the dense
/// matrix would hold 18.3 million.
/// </summary>
public sealed class SparseMap : LinearMap
{
    private readonly int _in, _out;
    private readonly int[] _start;   // [out + 1]
    private readonly int[] _cols;    // [nnz]
    private readonly double[] _vals; // [nnz]
    private readonly int _maxRow;

    /// <summary>Creates the map from compressed rows (arrays kept, not copied).</summary>
    public SparseMap(int inputs, int outputs, int[] rowStart, int[] columns, double[] weights, string kind)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        ArgumentNullException.ThrowIfNull(rowStart);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(weights);
        if (rowStart.Length != outputs + 1 || rowStart[0] != 0 || rowStart[^1] != columns.Length || columns.Length != weights.Length)
            throw new ArgumentException("Compressed rows do not match the sizes.");
        int max = 0;
        for (int o = 0; o < outputs; o++)
        {
            int len = rowStart[o + 1] - rowStart[o];
            if (len < 0) throw new ArgumentException("Row starts must not decrease.", nameof(rowStart));
            max = Math.Max(max, len);
        }
        foreach (var c in columns) if ((uint)c >= (uint)inputs) throw new ArgumentException($"Column {c} is outside [0, {inputs}).", nameof(columns));
        _in = inputs;
        _out = outputs;
        _start = rowStart;
        _cols = columns;
        _vals = weights;
        _maxRow = max;
        Kind = kind;
    }

    /// <inheritdoc />
    public override int Inputs => _in;

    /// <inheritdoc />
    public override int Outputs => _out;

    /// <inheritdoc />
    public override string Kind { get; }

    /// <inheritdoc />
    public override long StoredWeights => _vals.Length;

    /// <inheritdoc />
    public override int MaxRowEntries => _maxRow;

    /// <inheritdoc />
    public override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int o = 0; o < _out; o++)
        {
            double s = 0;
            for (int e = _start[o]; e < _start[o + 1]; e++) s += _vals[e] * x[_cols[e]];
            y[o] = s;
        }
    }

    /// <inheritdoc />
    public override void ApplyTranspose(ReadOnlySpan<double> u, Span<double> v)
    {
        v[.._in].Clear();
        for (int o = 0; o < _out; o++)
        {
            double a = u[o];
            if (a == 0) continue;
            for (int e = _start[o]; e < _start[o + 1]; e++) v[_cols[e]] += a * _vals[e];
        }
    }

    /// <inheritdoc />
    public override void ApplyAbsTranspose(ReadOnlySpan<double> u, Span<double> v)
    {
        v[.._in].Clear();
        for (int o = 0; o < _out; o++)
        {
            double a = Math.Abs(u[o]);
            if (a == 0) continue;
            for (int e = _start[o]; e < _start[o + 1]; e++) v[_cols[e]] += a * Math.Abs(_vals[e]);
        }
    }

    /// <inheritdoc />
    public override void ApplyInterval(ReadOnlySpan<double> lo, ReadOnlySpan<double> hi, Span<double> yLo, Span<double> yHi)
    {
        for (int o = 0; o < _out; o++)
        {
            double l = 0, h = 0;
            for (int e = _start[o]; e < _start[o + 1]; e++)
            {
                double w = _vals[e];
                int i = _cols[e];
                if (w > 0) { l += w * lo[i]; h += w * hi[i]; } else if (w < 0) { l += w * hi[i]; h += w * lo[i]; }
            }
            yLo[o] = l;
            yHi[o] = h;
        }
    }

    /// <inheritdoc />
    public override int RowEntries(int o, Span<int> columns, Span<double> weights)
    {
        int s = _start[o], len = _start[o + 1] - s;
        _cols.AsSpan(s, len).CopyTo(columns);
        _vals.AsSpan(s, len).CopyTo(weights);
        return len;
    }

    /// <inheritdoc />
    public override void AddRow(int o, double scale, Span<double> dst)
    {
        for (int e = _start[o]; e < _start[o + 1]; e++) dst[_cols[e]] += scale * _vals[e];
    }

    /// <inheritdoc />
    public override double[] ToDense()
    {
        var d = new double[(long)_out * _in];
        for (int o = 0; o < _out; o++)
            for (int e = _start[o]; e < _start[o + 1]; e++) d[(long)o * _in + _cols[e]] += _vals[e];
        return d;
    }

    /// <summary>
    /// a ∘ b (b first) as compressed rows (Gustavson's row-by-row product; columns of each row in increasing order).
    /// An entry of a that meets a single entry of b keeps the product of the two weights, so index maps (weight 1)
    /// compose exactly.
    /// </summary>
    public static SparseMap Multiply(SparseMap a, SparseMap b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Inputs != b.Outputs) throw new ArgumentException("Inner sizes differ.");
        int m = a.Outputs, n = b.Inputs;
        var start = new int[m + 1];
        var cols = new List<int>(a._vals.Length);
        var vals = new List<double>(a._vals.Length);
        var acc = new double[n];
        var mark = new int[n];
        Array.Fill(mark, -1);
        var touched = new List<int>();
        for (int o = 0; o < m; o++)
        {
            touched.Clear();
            for (int e = a._start[o]; e < a._start[o + 1]; e++)
            {
                int k = a._cols[e];
                double w = a._vals[e];
                for (int f = b._start[k]; f < b._start[k + 1]; f++)
                {
                    int c = b._cols[f];
                    if (mark[c] != o) { mark[c] = o; acc[c] = 0; touched.Add(c); }
                    acc[c] += w * b._vals[f];
                }
            }
            touched.Sort();
            foreach (var c in touched) { cols.Add(c); vals.Add(acc[c]); }
            start[o + 1] = cols.Count;
        }
        string kind = a.Kind == "index" ? b.Kind : b.Kind == "index" ? a.Kind : $"{a.Kind} ∘ {b.Kind}";
        return new SparseMap(n, m, start, cols.ToArray(), vals.ToArray(), kind);
    }

    /// <summary>
    /// An index map: output o is <c>scale[o] * x[index[o]]</c>, or 0 where index[o] = -1 (Pad's border, whose constant
    /// goes to the offset). Transpose, Pad (also negative: a crop) and a per-element scale (BatchNormalization in
    /// inference mode, Mul/Div by a constant) are index maps; <paramref name="scale"/> null means 1.
    /// </summary>
    public static SparseMap Gather(int inputs, int[] index, double[]? scale = null, string kind = "index")
    {
        ArgumentNullException.ThrowIfNull(index);
        if (scale is not null && scale.Length != index.Length) throw new ArgumentException("Scale and index lengths differ.", nameof(scale));
        var start = new int[index.Length + 1];
        var cols = new List<int>(index.Length);
        var vals = new List<double>(index.Length);
        for (int o = 0; o < index.Length; o++)
        {
            if (index[o] >= 0) { cols.Add(index[o]); vals.Add(scale?[o] ?? 1.0); }
            start[o + 1] = cols.Count;
        }
        return new SparseMap(inputs, index.Length, start, cols.ToArray(), vals.ToArray(), kind);
    }

    /// <summary>
    /// A 2-D convolution (ONNX Conv, NCHW per sample, no bias: the bias is the layer's offset): input
    /// <c>[C, H, W]</c>, weights <c>[M, C/groups, kH, kW]</c>, output <c>[M, OH, OW]</c> with
    /// OH = floor((H + padTop + padBottom - (dH (kH - 1) + 1)) / sH) + 1 (OW likewise), and
    /// <code>
    ///   y[m, oh, ow] = sum_{c in group(m), i, j} W[m, c, i, j] x[g(m) C/groups + c, oh sH - padTop + i dH, ow sW - padLeft + j dW]
    /// </code>
    /// with taps that fall in the zero padding left out (they add nothing).
    /// </summary>
    public static SparseMap Conv2d(int channels, int height, int width, double[] weights, int outChannels, int kernelH, int kernelW,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, int groups,
        out int outHeight, out int outWidth)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (groups < 1 || channels % groups != 0 || outChannels % groups != 0) throw new ArgumentException($"{groups} groups do not divide {channels} input and {outChannels} output channels.");
        int cpg = channels / groups, mpg = outChannels / groups;
        if (weights.Length != outChannels * cpg * kernelH * kernelW) throw new ArgumentException("Weight count differs from [M, C/groups, kH, kW].", nameof(weights));
        outHeight = (height + padTop + padBottom - (dilationH * (kernelH - 1) + 1)) / strideH + 1;
        outWidth = (width + padLeft + padRight - (dilationW * (kernelW - 1) + 1)) / strideW + 1;
        if (outHeight < 1 || outWidth < 1) throw new ArgumentException("The kernel does not fit the padded input.");
        int outputs = outChannels * outHeight * outWidth;
        var start = new int[outputs + 1];
        var cols = new List<int>(outputs * cpg * kernelH * kernelW);
        var vals = new List<double>(cols.Capacity);
        int o = 0;
        for (int m = 0; m < outChannels; m++)
        {
            int g = m / mpg;
            for (int oh = 0; oh < outHeight; oh++)
                for (int ow = 0; ow < outWidth; ow++)
                {
                    for (int c = 0; c < cpg; c++)
                        for (int i = 0; i < kernelH; i++)
                        {
                            int ih = oh * strideH - padTop + i * dilationH;
                            if (ih < 0 || ih >= height) continue;
                            for (int j = 0; j < kernelW; j++)
                            {
                                int iw = ow * strideW - padLeft + j * dilationW;
                                if (iw < 0 || iw >= width) continue;
                                cols.Add(((g * cpg + c) * height + ih) * width + iw);
                                vals.Add(weights[((m * cpg + c) * kernelH + i) * kernelW + j]);
                            }
                        }
                    start[++o] = cols.Count;
                }
        }
        string kind = $"conv {channels}x{height}x{width} -> {outChannels}x{outHeight}x{outWidth} k{kernelH}x{kernelW} s{strideH}x{strideW}"
            + (padTop + padLeft + padBottom + padRight > 0 ? $" p{padTop},{padLeft},{padBottom},{padRight}" : "")
            + (dilationH * dilationW > 1 ? $" d{dilationH}x{dilationW}" : "") + (groups > 1 ? $" g{groups}" : "");
        return new SparseMap(channels * height * width, outputs, start, cols.ToArray(), vals.ToArray(), kind);
    }

    /// <summary>
    /// A 2-D average pool (ONNX AveragePool, NCHW per sample, ceil_mode 0): each output is the mean of its window; with
    /// <paramref name="countIncludePad"/> false (the ONNX default) the divisor is the number of taps inside the input,
    /// otherwise kH kW. GlobalAveragePool is the window of the whole plane.
    /// </summary>
    public static SparseMap AveragePool(int channels, int height, int width, int kernelH, int kernelW, int strideH, int strideW,
        int padTop, int padLeft, int padBottom, int padRight, bool countIncludePad, out int outHeight, out int outWidth)
    {
        outHeight = (height + padTop + padBottom - kernelH) / strideH + 1;
        outWidth = (width + padLeft + padRight - kernelW) / strideW + 1;
        if (outHeight < 1 || outWidth < 1) throw new ArgumentException("The pool window does not fit the padded input.");
        int outputs = channels * outHeight * outWidth;
        var start = new int[outputs + 1];
        var cols = new List<int>(outputs * kernelH * kernelW);
        var vals = new List<double>(cols.Capacity);
        var taps = new List<int>();
        int o = 0;
        for (int c = 0; c < channels; c++)
            for (int oh = 0; oh < outHeight; oh++)
                for (int ow = 0; ow < outWidth; ow++)
                {
                    taps.Clear();
                    for (int i = 0; i < kernelH; i++)
                    {
                        int ih = oh * strideH - padTop + i;
                        if (ih < 0 || ih >= height) continue;
                        for (int j = 0; j < kernelW; j++)
                        {
                            int iw = ow * strideW - padLeft + j;
                            if (iw < 0 || iw >= width) continue;
                            taps.Add((c * height + ih) * width + iw);
                        }
                    }
                    double w = 1.0 / (countIncludePad ? kernelH * kernelW : Math.Max(1, taps.Count));
                    foreach (var t in taps) { cols.Add(t); vals.Add(w); }
                    start[++o] = cols.Count;
                }
        return new SparseMap(channels * height * width, outputs, start, cols.ToArray(), vals.ToArray(),
            $"avgpool {channels}x{height}x{width} -> {channels}x{outHeight}x{outWidth} k{kernelH}x{kernelW} s{strideH}x{strideW}");
    }
}
