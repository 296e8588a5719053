namespace Reassure.Networks;

/// <summary>An input box lo &lt;= x &lt;= hi (method.md §1, the domain D).</summary>
public sealed class InputBox
{
    /// <summary>Creates a box; lo[i] &lt;= hi[i] for every i.</summary>
    public InputBox(double[] lower, double[] upper)
    {
        ArgumentNullException.ThrowIfNull(lower);
        ArgumentNullException.ThrowIfNull(upper);
        if (lower.Length != upper.Length) throw new ArgumentException("Bounds differ in length.");
        for (int i = 0; i < lower.Length; i++)
            if (!(lower[i] <= upper[i])) throw new ArgumentException($"Empty box on dimension {i}: [{lower[i]}, {upper[i]}].");
        Lower = lower;
        Upper = upper;
    }

    /// <summary>Lower bounds.</summary>
    public double[] Lower { get; }

    /// <summary>Upper bounds.</summary>
    public double[] Upper { get; }

    /// <summary>Dimension n.</summary>
    public int Dimension => Lower.Length;

    /// <summary>The box [lo, hi]^n.</summary>
    public static InputBox Uniform(int n, double lo, double hi) =>
        new(Enumerable.Repeat(lo, n).ToArray(), Enumerable.Repeat(hi, n).ToArray());

    /// <summary>Whether x lies in the box (closed).</summary>
    public bool Contains(ReadOnlySpan<double> x)
    {
        for (int i = 0; i < x.Length; i++) if (x[i] < Lower[i] || x[i] > Upper[i]) return false;
        return true;
    }

    /// <summary>Whether <paramref name="inner"/> lies in this box.</summary>
    public bool Contains(InputBox inner)
    {
        for (int i = 0; i < Dimension; i++) if (inner.Lower[i] < Lower[i] || inner.Upper[i] > Upper[i]) return false;
        return true;
    }

    /// <summary>The centre (lo + hi) / 2, <c>[n]</c>.</summary>
    public double[] Center()
    {
        var x = new double[Dimension];
        for (int i = 0; i < x.Length; i++) x[i] = 0.5 * (Lower[i] + Upper[i]);
        return x;
    }

    /// <summary>The vertex where c . x is smallest over the box: lo_i where c_i >= 0, else hi_i, <c>[n]</c>.</summary>
    public double[] Minimizer(ReadOnlySpan<double> c)
    {
        var x = new double[Dimension];
        for (int i = 0; i < x.Length; i++) x[i] = c[i] >= 0 ? Lower[i] : Upper[i];
        return x;
    }

    /// <summary>A uniform random point of the box, one draw of <paramref name="rng"/> per input in order, <c>[n]</c>.</summary>
    public double[] Sample(Random rng)
    {
        var x = new double[Dimension];
        for (int i = 0; i < x.Length; i++) x[i] = Lower[i] + rng.NextDouble() * (Upper[i] - Lower[i]);
        return x;
    }

    /// <summary>The smallest box holding this one and x.</summary>
    public InputBox Including(ReadOnlySpan<double> x)
    {
        var lo = (double[])Lower.Clone();
        var hi = (double[])Upper.Clone();
        for (int i = 0; i < x.Length; i++) { lo[i] = Math.Min(lo[i], x[i]); hi[i] = Math.Max(hi[i], x[i]); }
        return new InputBox(lo, hi);
    }
}
