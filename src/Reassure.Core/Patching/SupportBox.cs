namespace Reassure.Patching;

/// <summary>
/// A box part of a support (method.md §13, feature-space repair): the box |x_i - c_i| &lt;= h_i, each dimension's
/// violation measured in units of 1 / s_i (s_i = 1 / the width of the domain in that dimension, 0 for a dimension the
/// domain fixes):
/// <code>
///   v_i(x) = s_i max(|x_i - c_i| - h_i, 0)          (0 inside the box)
///   deficit += sum_i min(gamma v_i(x), 1)
/// </code>
/// so the gate is 1 on the box and 0 once the scaled violations add up to 1/gamma. It is the gate of 2n explicit rows
/// +-x_i &lt;= c_i + h_i with row i scaled by s_i, stored as three vectors instead of a [2n, n] matrix.
/// </summary>
/// <param name="Center">c, <c>[n]</c>.</param>
/// <param name="HalfWidth">h, <c>[n]</c>, &gt;= 0.</param>
/// <param name="Scale">s, <c>[n]</c>, &gt;= 0.</param>
public sealed record SupportBox(double[] Center, double[] HalfWidth, double[] Scale)
{
    /// <summary>Dimension n.</summary>
    public int Dimension => Center.Length;

    /// <summary>The scaled violation v_i(x) of dimension i.</summary>
    public double Violation(ReadOnlySpan<double> x, int i)
    {
        double v = Math.Abs(x[i] - Center[i]) - HalfWidth[i];
        return v > 0 ? Scale[i] * v : 0;
    }

    /// <summary>Whether x lies in the box (closed).</summary>
    public bool Contains(ReadOnlySpan<double> x)
    {
        for (int i = 0; i < Center.Length; i++) if (Math.Abs(x[i] - Center[i]) > HalfWidth[i]) return false;
        return true;
    }
}
