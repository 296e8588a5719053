namespace Reassure.Networks;

/// <summary>
/// The windows of a 2-D max pool (ONNX MaxPool, NCHW) over a layer's ReLU outputs: pooled output o is the maximum of
/// its window's entries <c>index[start[o] .. start[o+1])</c>. Max pooling is piecewise linear, not affine: which entry
/// wins is part of the linear region, which this version does not carry, so a network with a max pool is evaluated
/// exactly but regions, LPs, proofs and repairs refuse it (RSR1015) instead of approximating it (method.md §12).
/// </summary>
public sealed class MaxPoolWindows
{
    private readonly int[] _start;
    private readonly int[] _index;

    /// <summary>Creates the windows from compressed lists (kept, not copied).</summary>
    public MaxPoolWindows(int inputs, int[] start, int[] index, string kind)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(index);
        if (start.Length < 2 || start[0] != 0 || start[^1] != index.Length) throw new ArgumentException("Window starts do not match the indices.");
        for (int o = 0; o + 1 < start.Length; o++)
            if (start[o + 1] <= start[o]) throw new ArgumentException($"Window {o} is empty.", nameof(start));
        foreach (var i in index) if ((uint)i >= (uint)inputs) throw new ArgumentException($"Index {i} is outside [0, {inputs}).", nameof(index));
        Inputs = inputs;
        _start = start;
        _index = index;
        Kind = kind;
    }

    /// <summary>Width pooled over (the layer's neurons).</summary>
    public int Inputs { get; }

    /// <summary>Number of windows (pooled outputs).</summary>
    public int Outputs => _start.Length - 1;

    /// <summary>What the pool is, for <c>inspect</c>.</summary>
    public string Kind { get; }

    /// <summary>The entries (indices into the pooled layer) of window o, in ascending order of position.</summary>
    public ReadOnlySpan<int> Window(int o) => _index.AsSpan(_start[o], _start[o + 1] - _start[o]);

    /// <summary>y_o = max over window o of a (<c>[out]</c> from <c>[in]</c>).</summary>
    public void Apply(ReadOnlySpan<double> a, Span<double> y)
    {
        for (int o = 0; o < Outputs; o++)
        {
            double m = double.NegativeInfinity;
            for (int e = _start[o]; e < _start[o + 1]; e++) m = Math.Max(m, a[_index[e]]);
            y[o] = m;
        }
    }

    /// <summary>Interval image: [max of the lower ends, max of the upper ends] per window (max is monotone).</summary>
    public void ApplyInterval(ReadOnlySpan<double> lo, ReadOnlySpan<double> hi, Span<double> yLo, Span<double> yHi)
    {
        Apply(lo, yLo);
        Apply(hi, yHi);
    }

    /// <summary>
    /// Windows of a 2-D max pool over <c>[C, H, W]</c> (padding never wins: a window keeps only its taps inside the input).
    /// </summary>
    public static MaxPoolWindows Pool2d(int channels, int height, int width, int kernelH, int kernelW, int strideH, int strideW,
        int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, out int outHeight, out int outWidth)
    {
        outHeight = (height + padTop + padBottom - (dilationH * (kernelH - 1) + 1)) / strideH + 1;
        outWidth = (width + padLeft + padRight - (dilationW * (kernelW - 1) + 1)) / strideW + 1;
        if (outHeight < 1 || outWidth < 1) throw new ArgumentException("The pool window does not fit the padded input.");
        var start = new List<int> { 0 };
        var index = new List<int>();
        for (int c = 0; c < channels; c++)
            for (int oh = 0; oh < outHeight; oh++)
                for (int ow = 0; ow < outWidth; ow++)
                {
                    for (int i = 0; i < kernelH; i++)
                    {
                        int ih = oh * strideH - padTop + i * dilationH;
                        if (ih < 0 || ih >= height) continue;
                        for (int j = 0; j < kernelW; j++)
                        {
                            int iw = ow * strideW - padLeft + j * dilationW;
                            if (iw < 0 || iw >= width) continue;
                            index.Add((c * height + ih) * width + iw);
                        }
                    }
                    if (index.Count == start[^1]) throw new ArgumentException("A pool window lies entirely in the padding.");
                    start.Add(index.Count);
                }
        return new MaxPoolWindows(channels * height * width, start.ToArray(), index.ToArray(),
            $"maxpool {channels}x{height}x{width} -> {channels}x{outHeight}x{outWidth} k{kernelH}x{kernelW} s{strideH}x{strideW}");
    }
}
